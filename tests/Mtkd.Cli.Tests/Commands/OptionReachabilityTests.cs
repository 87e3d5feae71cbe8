using System.CommandLine;
using System.Reflection;
using Mtkd.MLNet.Distillation;
using Mtkd.Training.Distillation;
using Mtkd.Training.Engine;

namespace Mtkd.Cli.Tests.Commands;

/// <summary>
/// Every engine option can be set from ML.NET and from the command line: ML.NET's options hold the engine's own
/// option objects, and each engine property maps to a flag of `mtkd distill`. An option added to the engine
/// without a way to reach it fails here.
/// </summary>
public sealed class OptionReachabilityTests
{
    // The only engine options without a flag of their own, and why.
    private static readonly Dictionary<string, string> Unflagged = new()
    {
        ["TrainerOptions.Augmentation"] = "(its own flags, AugmentationOptions')",
        ["TrainerOptions.CheckpointDirectory"] = "(OUT/checkpoints, from --out)", ["TrainerOptions.MetricsPath"] = "(OUT/metrics.csv, from --out)",
        ["DistillationOptions.Method"] = "(--method, and each method's own flags)",
    };

    private static IEnumerable<PropertyInfo> EngineOptionProperties() =>
        new[] { typeof(TrainerOptions), typeof(AugmentationOptions), typeof(DistillationOptions) }.Concat(DistillationMethods.Types)
            .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).Where(p => p.SetMethod is { IsPublic: true }));

    private static IEnumerable<string> EngineProperties() => EngineOptionProperties().Select(p => $"{p.DeclaringType!.Name}.{p.Name}");

    [Fact]
    public void Every_engine_option_declares_its_flag_and_mtkd_distill_has_it()
    {
        var command = Mtkd.Cli.Program.BuildCommand();
        var distill = command.Subcommands.Single(c => c.Name == "distill").Options.Select(o => o.Name).ToHashSet();
        var teachers = command.Subcommands.Single(c => c.Name == "teachers").Options.Select(o => o.Name).ToHashSet();
        foreach (var property in EngineOptionProperties())
        {
            string name = $"{property.DeclaringType!.Name}.{property.Name}";
            var flag = property.GetCustomAttribute<Mtkd.Training.FlagAttribute>();
            Assert.True(flag is not null || Unflagged.ContainsKey(name), $"{name} declares no [Flag]; add one (the CLI generates the flag from it).");
            if (flag is null) continue;
            Assert.Contains(flag.Name, distill);
            if (property.DeclaringType == typeof(TrainerOptions) || property.DeclaringType == typeof(AugmentationOptions))
                Assert.Contains(flag.Name, teachers);
        }
    }

    [Fact]
    public void Generated_flags_set_the_engine_options_and_refuse_bad_values()
    {
        var flags = new Mtkd.Cli.Commands.OptionFlags(new TrainerOptions { Epochs = 8 });
        var command = new Command("x");
        flags.AddTo(command);
        var options = new TrainerOptions();
        flags.Apply(command.Parse(["--schedule", "cyclic", "--early-stopping", "accuracy", "--patience", "0", "--flip", "--lr", "0.05", "--optimizer", "SGD"]), options);
        Assert.Equal((ScheduleKind.CyclicCosine, EarlyStoppingMetric.ValidationAccuracy, (int?)null, true, 0.05, OptimizerKind.Sgd, 8),
            (options.Schedule, options.EarlyStoppingMetric, options.EarlyStoppingPatience, options.Augmentation.HorizontalFlip, options.LearningRate, options.Optimizer, options.Epochs));
        flags.Apply(command.Parse(["--patience", "3"]), options);
        Assert.Equal(3, options.EarlyStoppingPatience);
        Assert.Contains("'warm' is not one of constant, cosine, onecycle, step, cyclic", Assert.Throws<ArgumentException>(() => flags.Apply(command.Parse(["--schedule", "warm"]), options)).Message);
        Assert.Contains("--patience -1: expected 0 (off)", Assert.Throws<ArgumentException>(() => flags.Apply(command.Parse(["--patience", "-1"]), options)).Message);
        Assert.Contains("--batch-size 'x': expected a whole number", Assert.Throws<ArgumentException>(() => flags.Apply(command.Parse(["--batch-size", "x"]), options)).Message);
        // A flag's default is not "given": bagged teachers take their own patience unless --patience is on the command line.
        var training = new Mtkd.Cli.Commands.TrainingFlags(5);
        var teachers = new Command("teachers");
        training.AddTo(teachers);
        Assert.False(training.PatienceGiven(teachers.Parse([])));
        Assert.True(training.PatienceGiven(teachers.Parse(["--patience", "0"])));
    }

    [Fact]
    public void ML_NET_options_hold_the_engine_objects_rather_than_copies()
    {
        var properties = typeof(MultiTeacherDistillationOptions).GetProperties().ToDictionary(p => p.Name);
        Assert.Equal(typeof(TrainerOptions), properties["Trainer"].PropertyType);
        Assert.Equal(typeof(DistillationOptions), properties["Distillation"].PropertyType);
        var engineNames = EngineProperties().Select(p => p.Split('.')[1]).ToHashSet();
        // A restated engine setting would drift from the engine's; none may appear at the top level.
        Assert.DoesNotContain(properties.Keys, engineNames.Contains);
    }

    [Fact]
    public void Bad_values_are_refused_when_the_estimator_is_built()
    {
        var ml = new Microsoft.ML.MLContext();
        var trainers = ml.MulticlassClassification.Trainers;
        Assert.Throws<ArgumentOutOfRangeException>(() => Mtkd.MLNet.MtkdCatalog.MultiTeacherDistillation(trainers, new() { Distillation = { Alpha = double.NaN } }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Mtkd.MLNet.MtkdCatalog.MultiTeacherDistillation(trainers, new() { Trainer = { Epochs = 0 } }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Mtkd.MLNet.MtkdCatalog.MultiTeacherDistillation(trainers, new() { Trainer = { Augmentation = { Mixup = -1 } } }));
        Assert.Throws<ArgumentException>(() => Mtkd.MLNet.MtkdCatalog.MultiTeacherDistillation(trainers, new() { ConsistentTeaching = true }));
    }
}
