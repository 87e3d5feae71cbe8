using Mtkd.Samples.Images;

namespace Mtkd.Samples.Corrosion;

/// <summary>
/// Corrosion detection on aircraft fuselage images: 2 classes at 240×320 RGB (the source's size); the threshold is the
/// one with the best F1 on validation images. Shared by the sample and the benchmarks.
/// </summary>
public static class CorrosionSample
{
    public static SampleDefinition Definition { get; } = new()
    {
        Name = "corrosion",
        Title = "Corrosion detection on fuselage panels",
        NegativeClass = "clean",
        PositiveClass = "corrosion",
        Height = 240,
        Width = 320,
        Threshold = _ => new ThresholdPolicy.MaxF1(),
        Synthetic = new SyntheticCorrosion(),
    };
}
