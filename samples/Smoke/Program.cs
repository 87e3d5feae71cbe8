using Mtkd.Samples.Images;
using Mtkd.Samples.Smoke;

// Smoke detection on observation-camera frames: 2 classes at 180×320 RGB (16:9 frames). The threshold is recall
// first: the best precision among thresholds that still find the target share of validation smoke (a missed fire
// costs more than a false alarm).
return SampleRunner.Main(new SampleDefinition
{
    Name = "smoke",
    Title = "Smoke detection on observation cameras",
    NegativeClass = "no_smoke",
    PositiveClass = "smoke",
    Height = 180,
    Width = 320,
    Threshold = targetRecall => new ThresholdPolicy.RecallFirst(targetRecall),
    DefaultTargetRecall = 0.95,
    Synthetic = new SyntheticSmoke(),
}, args);
