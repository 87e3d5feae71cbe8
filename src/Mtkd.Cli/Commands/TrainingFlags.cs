using System.CommandLine;
using Mtkd.Training.Engine;

namespace Mtkd.Cli.Commands;

/// <summary>The training options shared by <c>mtkd teachers</c> and <c>mtkd distill</c>, as flags.</summary>
internal sealed class TrainingFlags
{
    private readonly Option<int> epochs;
    private readonly Option<int> batchSize = new("--batch-size") { Description = "Images per step.", DefaultValueFactory = _ => 128 };
    private readonly Option<double> learningRate = new("--lr") { Description = "Base learning rate (about 0.05 suits SGD).", DefaultValueFactory = _ => 2e-3 };
    private readonly Option<string> optimizer = new("--optimizer") { Description = "adam, adamw or sgd.", DefaultValueFactory = _ => "adam" };
    private readonly Option<double> momentum = new("--momentum") { Description = "SGD momentum.", DefaultValueFactory = _ => 0.9 };
    private readonly Option<bool> nesterov = new("--nesterov") { Description = "Nesterov momentum for SGD." };
    private readonly Option<double> weightDecay = new("--weight-decay") { Description = "Weight decay.", DefaultValueFactory = _ => 0 };
    private readonly Option<string> schedule = new("--schedule") { Description = "constant, cosine, onecycle, step or cyclic.", DefaultValueFactory = _ => "constant" };
    private readonly Option<int> stepEpochs = new("--step-epochs") { Description = "--schedule step: epochs between decays.", DefaultValueFactory = _ => new TrainerOptions().StepEpochs };
    private readonly Option<double> stepGamma = new("--step-gamma") { Description = "--schedule step: the decay factor.", DefaultValueFactory = _ => new TrainerOptions().StepGamma };
    private readonly Option<int> cycleEpochs = new("--cycle-epochs") { Description = "--schedule cyclic: epochs per cosine cycle.", DefaultValueFactory = _ => new TrainerOptions().CycleEpochs };
    private readonly Option<double> warmup = new("--warmup") { Description = "Epochs of linear learning-rate warm-up.", DefaultValueFactory = _ => 0 };
    private readonly Option<int?> patience = new("--patience") { Description = "Early stopping: epochs without improvement on the validation split before stopping (keeps the best weights); 0 is off." };
    private readonly Option<string> stopOn;
    private readonly Option<double?> validationFraction = new("--validation-fraction") { Description = "Share of the training images held out for validation (default 0, or 0.1 with --patience)." };
    private readonly Option<int> shift = new("--shift") { Description = "Augmentation: random shift by up to this many pixels.", DefaultValueFactory = _ => 0 };
    private readonly Option<bool> flip = new("--flip") { Description = "Augmentation: random horizontal flips." };
    private readonly Option<double> rotate = new("--rotate") { Description = "Augmentation: random rotation by up to this many degrees.", DefaultValueFactory = _ => 0 };
    private readonly Option<int> randAugment = new("--rand-augment") { Description = "Augmentation: RandAugment, this many operations per image (2 is usual; 0 is off).", DefaultValueFactory = _ => 0 };
    private readonly Option<int> randAugmentMagnitude = new("--rand-augment-magnitude") { Description = "RandAugment's magnitude, 0 to 30 (torchvision's scale).", DefaultValueFactory = _ => new AugmentationOptions().RandAugmentMagnitude };
    private readonly Option<double> mixup = new("--mixup") { Description = "Mixup on every batch, λ ~ Beta(a, a): this is a (1 is uniform; 0 is off). Labels and soft targets are mixed alike.", DefaultValueFactory = _ => 0 };
    private readonly Option<double> cutMix = new("--cutmix") { Description = "CutMix on every batch with Beta(a, a): this is a (0 is off); with --mixup, each batch uses one of the two.", DefaultValueFactory = _ => 0 };
    private readonly Option<string> device = new("--device") { Description = "cpu, cuda (falls back to the CPU with a message) or auto.", DefaultValueFactory = _ => "cpu" };
    private readonly Option<bool> quick = new("--quick") { Description = "Only the first 2,000 training and 1,000 test images: a run small enough for tests." };
    private readonly Option<int> seed = new("--seed") { Description = "Random seed; the same seed gives the same weights on the CPU.", DefaultValueFactory = _ => 1 };

    /// <summary>The flags, with the defaults of one command: --epochs, and what --early-stopping watches (loss or accuracy).</summary>
    public TrainingFlags(int defaultEpochs, string defaultStopOn = "loss")
    {
        epochs = new Option<int>("--epochs") { Description = "Passes over the training data.", DefaultValueFactory = _ => defaultEpochs };
        stopOn = new Option<string>("--early-stopping") { Description = "What early stopping watches: loss or accuracy.", DefaultValueFactory = _ => defaultStopOn };
    }

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { epochs, batchSize, learningRate, optimizer, momentum, nesterov, weightDecay, schedule, stepEpochs, stepGamma, cycleEpochs, warmup,
                     patience, stopOn, validationFraction, shift, flip, rotate, randAugment, randAugmentMagnitude, mixup, cutMix, device, seed, quick })
            command.Options.Add(option);
    }

    public int Seed(ParseResult parse) => parse.GetValue(seed);

    /// <summary>
    /// The images these flags ask for: --data (and --labels) are read by the command, the split and --quick here.
    /// With <paramref name="holdOutForPatience"/>, 10 % are held out for early stopping when --patience is on and
    /// --validation-fraction is not given (bagged teachers validate on their out-of-bag images instead).
    /// </summary>
    public TrainingData LoadData(ParseResult parse, DataRequest data, int? labels = null, bool holdOutForPatience = true, DataRequest? unlabeled = null) =>
        TrainingData.Load(data, ValidationFraction(parse, holdOutForPatience), parse.GetValue(seed), parse.GetValue(quick), labels, unlabeled);

    public double ValidationFraction(ParseResult parse, bool holdOutForPatience = true) =>
        parse.GetValue(validationFraction) ?? (holdOutForPatience && parse.GetValue(patience) is > 0 ? 0.1 : 0);

    /// <summary>--patience as given: null when absent, 0 when turned off.</summary>
    public int? Patience(ParseResult parse) => parse.GetValue(patience);

    public TrainerOptions Options(ParseResult parse) => new()
    {
        Epochs = parse.GetValue(epochs),
        BatchSize = parse.GetValue(batchSize),
        LearningRate = parse.GetValue(learningRate),
        Optimizer = parse.GetValue(optimizer) switch
        {
            "adam" => OptimizerKind.Adam, "adamw" => OptimizerKind.AdamW, "sgd" => OptimizerKind.Sgd,
            var other => throw new ArgumentException($"--optimizer '{other}' is not one of adam, adamw, sgd."),
        },
        Momentum = parse.GetValue(momentum),
        Nesterov = parse.GetValue(nesterov),
        WeightDecay = parse.GetValue(weightDecay),
        Schedule = parse.GetValue(schedule) switch
        {
            "constant" => ScheduleKind.Constant, "cosine" => ScheduleKind.Cosine, "onecycle" => ScheduleKind.OneCycle,
            "step" => ScheduleKind.Step, "cyclic" => ScheduleKind.CyclicCosine,
            var other => throw new ArgumentException($"--schedule '{other}' is not one of constant, cosine, onecycle, step, cyclic."),
        },
        StepEpochs = parse.GetValue(stepEpochs),
        StepGamma = parse.GetValue(stepGamma),
        CycleEpochs = parse.GetValue(cycleEpochs),
        WarmupEpochs = parse.GetValue(warmup),
        EarlyStoppingPatience = parse.GetValue(patience) switch
        {
            < 0 and var p => throw new ArgumentException($"--patience {p}: expected 0 (off) or a number of epochs."),
            > 0 and var p => p,
            _ => null,
        },
        EarlyStoppingMetric = parse.GetValue(stopOn) switch
        {
            "loss" => EarlyStoppingMetric.ValidationLoss, "accuracy" => EarlyStoppingMetric.ValidationAccuracy,
            var other => throw new ArgumentException($"--early-stopping '{other}' is not one of loss, accuracy."),
        },
        Augmentation = new AugmentationOptions
        {
            ShiftPixels = parse.GetValue(shift), HorizontalFlip = parse.GetValue(flip), RotationDegrees = parse.GetValue(rotate),
            RandAugmentOps = parse.GetValue(randAugment), RandAugmentMagnitude = parse.GetValue(randAugmentMagnitude),
            Mixup = parse.GetValue(mixup), CutMix = parse.GetValue(cutMix),
        },
        Device = parse.GetValue(device)!,
        Seed = parse.GetValue(seed),
    };
}
