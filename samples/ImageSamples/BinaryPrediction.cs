namespace Mtkd.Samples.Images;

/// <summary>A binary model's output row, as ML.NET's binary classifiers name it (compiled into the predictor too).</summary>
public sealed class BinaryPrediction
{
    public float Probability { get; set; }
    public bool PredictedLabel { get; set; }
}
