using System.CommandLine;
using Mtkd.Training.Engine;

namespace Mtkd.Cli.Commands;

/// <summary>
/// The training flags shared by <c>mtkd teachers</c> and <c>mtkd distill</c>: every <see cref="TrainerOptions"/> and
/// <see cref="AugmentationOptions"/> flag, generated from their declarations, and the two that choose data rather than
/// options (--validation-fraction, --quick).
/// </summary>
internal sealed class TrainingFlags
{
    private readonly OptionFlags options;
    private readonly Option<double?> validationFraction = new("--validation-fraction") { Description = "Share of the training images held out for validation (default 0, or 0.1 with --patience)." };
    private readonly Option<bool> quick = new("--quick") { Description = "Only the first 2,000 training and 1,000 test images: a run small enough for tests." };

    /// <summary>The flags, with the defaults of one command where they differ from the engine's: --epochs and what --early-stopping watches.</summary>
    public TrainingFlags(int defaultEpochs, EarlyStoppingMetric defaultStopOn = EarlyStoppingMetric.ValidationLoss) =>
        options = new OptionFlags(new TrainerOptions { Epochs = defaultEpochs, EarlyStoppingMetric = defaultStopOn, Device = "cpu" });

    public void AddTo(Command command)
    {
        options.AddTo(command);
        command.Options.Add(validationFraction);
        command.Options.Add(quick);
    }

    public int Seed(ParseResult parse) => Options(parse).Seed;

    /// <summary>
    /// The images these flags ask for: --data (and --labels) are read by the command, the split and --quick here.
    /// With <paramref name="holdOutForPatience"/>, 10 % are held out for early stopping when --patience is on and
    /// --validation-fraction is not given (bagged teachers validate on their out-of-bag images instead); with
    /// <paramref name="choosesSettings"/> (a sweep), as well.
    /// </summary>
    public TrainingData LoadData(ParseResult parse, DataRequest data, int? labels = null, bool holdOutForPatience = true, DataRequest? unlabeled = null,
        bool choosesSettings = false) =>
        TrainingData.Load(data, ValidationFraction(parse, holdOutForPatience, choosesSettings), Seed(parse), parse.GetValue(quick), labels, unlabeled);

    public double ValidationFraction(ParseResult parse, bool holdOutForPatience = true, bool choosesSettings = false) => holdOutForPatience
        ? DistillationJob.HeldOutShare(parse.GetValue(validationFraction), Options(parse), choosesSettings)
        : parse.GetValue(validationFraction) ?? 0;

    /// <summary>Whether --patience was given at all (0, off, included).</summary>
    public bool PatienceGiven(ParseResult parse) => parse.GetResult(options.For(typeof(TrainerOptions), nameof(TrainerOptions.EarlyStoppingPatience))!) is { Implicit: false };

    /// <summary>A new <see cref="TrainerOptions"/> with every flag's value.</summary>
    public TrainerOptions Options(ParseResult parse)
    {
        var result = new TrainerOptions();
        options.Apply(parse, result);
        return result;
    }
}
