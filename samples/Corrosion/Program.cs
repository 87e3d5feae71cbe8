using Mtkd.Samples.Corrosion;
using Mtkd.Samples.Images;

// Corrosion detection on aircraft fuselage images: 2 classes at 240×320 RGB (the source's size); the threshold
// is the one with the best F1 on validation images.
return SampleRunner.Main(new SampleDefinition
{
    Name = "corrosion",
    Title = "Corrosion detection on fuselage panels",
    NegativeClass = "clean",
    PositiveClass = "corrosion",
    Height = 240,
    Width = 320,
    Threshold = _ => new ThresholdPolicy.MaxF1(),
    Synthetic = new SyntheticCorrosion(),
}, args);
