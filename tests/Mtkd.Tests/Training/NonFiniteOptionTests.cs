using Mtkd.Training.Distillation;
using Mtkd.Training.Training;

namespace Mtkd.Tests.Training;

/// <summary>Every floating-point option refuses NaN and infinity by name (NaN slips past a plain range check).</summary>
public sealed class NonFiniteOptionTests
{
    public static TheoryData<string, double> Values()
    {
        var data = new TheoryData<string, double>();
        foreach (var name in new[] { "LearningRate", "WeightDecay", "Momentum", "WarmupEpochs", "StepGamma", "Temperature", "Alpha", "LabelSmoothing",
                     "RotationDegrees", "Mixup", "CutMix" })
            foreach (var value in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
                data.Add(name, value);
        return data;
    }

    [Theory]
    [MemberData(nameof(Values))]
    public void Each_is_refused_naming_the_option(string name, double value)
    {
        var trainer = new TrainerOptions();
        var distillation = new DistillationOptions();
        var augmentation = trainer.Augmentation;
        object target = typeof(TrainerOptions).GetProperty(name) is not null ? trainer
            : typeof(DistillationOptions).GetProperty(name) is not null ? distillation : augmentation;
        target.GetType().GetProperty(name)!.SetValue(target, value);
        var error = Assert.ThrowsAny<ArgumentException>(() =>
        {
            trainer.Validate();
            distillation.Validate();
        });
        Assert.Equal(name, error.ParamName);
    }
}
