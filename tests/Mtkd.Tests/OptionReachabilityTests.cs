using System.CommandLine;
using System.Reflection;
using Mtkd.MLNet.Distillation;
using Mtkd.Training.Distillation;
using Mtkd.Training.Engine;

namespace Mtkd.Tests;

/// <summary>
/// Every engine option can be set from ML.NET and from the command line: ML.NET's options hold the engine's own
/// option objects, and each engine property maps to a flag of `mtkd distill`. An option added to the engine
/// without a way to reach it fails here.
/// </summary>
public sealed class OptionReachabilityTests
{
    // Engine property → the flag that sets it, or why no flag is right.
    private static readonly Dictionary<string, string> Flags = new()
    {
        ["TrainerOptions.Epochs"] = "--epochs", ["TrainerOptions.BatchSize"] = "--batch-size", ["TrainerOptions.LearningRate"] = "--lr",
        ["TrainerOptions.Seed"] = "--seed", ["TrainerOptions.Optimizer"] = "--optimizer", ["TrainerOptions.WeightDecay"] = "--weight-decay",
        ["TrainerOptions.Momentum"] = "--momentum", ["TrainerOptions.Nesterov"] = "--nesterov", ["TrainerOptions.Schedule"] = "--schedule",
        ["TrainerOptions.WarmupEpochs"] = "--warmup", ["TrainerOptions.StepEpochs"] = "--step-epochs", ["TrainerOptions.StepGamma"] = "--step-gamma",
        ["TrainerOptions.CycleEpochs"] = "--cycle-epochs", ["TrainerOptions.EarlyStoppingPatience"] = "--patience",
        ["TrainerOptions.EarlyStoppingMetric"] = "--early-stopping", ["TrainerOptions.Device"] = "--device",
        ["TrainerOptions.Augmentation"] = "(the AugmentationOptions flags below)",
        ["TrainerOptions.CheckpointDirectory"] = "(OUT/checkpoints, from --out)", ["TrainerOptions.MetricsPath"] = "(OUT/metrics.csv, from --out)",
        ["AugmentationOptions.ShiftPixels"] = "--shift", ["AugmentationOptions.HorizontalFlip"] = "--flip", ["AugmentationOptions.RotationDegrees"] = "--rotate",
        ["AugmentationOptions.RandAugmentOps"] = "--rand-augment", ["AugmentationOptions.RandAugmentMagnitude"] = "--rand-augment-magnitude",
        ["AugmentationOptions.Mixup"] = "--mixup", ["AugmentationOptions.CutMix"] = "--cutmix",
        ["DistillationOptions.Method"] = "--method", ["DistillationOptions.Temperature"] = "--temperature", ["DistillationOptions.Alpha"] = "--alpha",
        ["DistillationOptions.LabelSmoothing"] = "--label-smoothing", ["DistillationOptions.AdjustWrongTeachers"] = "--adjust-wrong-teachers",
        ["DistillationOptions.OutOfBagTeachers"] = "(needs the in-bag mask, which soft-label files do not carry yet: ML.NET and the engine only)",
    };

    private static IEnumerable<string> EngineProperties() =>
        new[] { typeof(TrainerOptions), typeof(AugmentationOptions), typeof(DistillationOptions) }
            .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => $"{t.Name}.{p.Name}"));

    [Fact]
    public void Every_engine_option_has_a_flag_of_mtkd_distill()
    {
        var distill = Mtkd.Cli.Program.BuildCommand().Subcommands.Single(c => c.Name == "distill");
        var flags = distill.Options.Select(o => o.Name).ToHashSet();
        foreach (var property in EngineProperties())
        {
            Assert.True(Flags.TryGetValue(property, out var flag), $"{property} has no flag of mtkd distill; add one (and a row here).");
            if (flag.StartsWith("--", StringComparison.Ordinal))
                Assert.True(flags.Contains(flag), $"{property} maps to {flag}, which mtkd distill does not have.");
        }
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
