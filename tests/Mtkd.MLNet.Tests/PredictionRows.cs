using Microsoft.ML.Data;

namespace Mtkd.MLNet.Tests;

/// <summary>One 28×28 Fashion-MNIST image as a PredictionEngine's input row.</summary>
internal sealed class FashionImageRow
{
    [VectorType(784)] public float[] Features { get; set; } = [];
}

/// <summary>A multiclass model's output row, as ML.NET's classifiers name it.</summary>
internal sealed class ClassPrediction
{
    public float[] Score { get; set; } = [];
    public uint PredictedLabel { get; set; }
}
