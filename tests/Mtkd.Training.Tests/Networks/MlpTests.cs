using Microsoft.ML.OnnxRuntime;
using Mtkd.Training.Data;
using Mtkd.Training.Engine;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;

namespace Mtkd.Training.Tests.Networks;

/// <summary>The MLP for feature vectors: it learns, and its ONNX export takes [batch, F] and gives TorchSharp's logits.</summary>
public sealed class MlpTests
{
    public MlpTests() => TorchRuntime.EnsureLoaded();

    // Synthetic (labelled as such): 3 classes of 13 features, each class a Gaussian blob around its own centre.
    private static ImageDataset Blobs(int count, int seed)
    {
        var random = new Random(seed);
        var centres = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 13).Select(_ => random.NextDouble() * 4 - 2).ToArray()).ToArray();
        var labels = Enumerable.Range(0, count).Select(i => i % 3).ToArray();
        var features = labels.SelectMany(y => centres[y].Select(c => (float)(c + NextGaussian(random)))).ToArray();
        return new ImageDataset(features, labels, channels: 13, height: 1, width: 1, ["a", "b", "c"]);
    }

    private static double NextGaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    [Fact]
    public void An_mlp_learns_feature_vectors_and_exports_them_as_batch_by_features()
    {
        var train = Blobs(600, 1);
        var test = Blobs(300, 1).Subset(Enumerable.Range(0, 300).ToArray());
        var spec = NetworkPresets.Mlp([32, 16], dropout: 0.1);
        Assert.Equal(["flatten", "linear", "batchnorm1d", "relu", "dropout", "linear", "batchnorm1d", "relu", "dropout", "linear"],
            spec.Layers.Select(l => System.Text.Json.JsonSerializer.Serialize<LayerSpec>(l).Split('"')[3]));
        using var network = NetworkTrainer.CreateNetwork(spec, train, seed: 2);
        NetworkTrainer.TrainSupervised(network, train, new TrainerOptions { Epochs = 10, BatchSize = 50, Seed = 2 });
        Assert.True(NetworkTrainer.Evaluate(network, test).Accuracy > 0.9);

        // Exported: input [batch, 13]; ONNX Runtime gives the eval logits (batch norm's running statistics, no dropout).
        var bytes = OnnxExporter.Export(network, new OnnxExportOptions { ProbabilitiesName = null });
        using var session = new InferenceSession(bytes);
        Assert.Equal([-1, 13], session.InputMetadata["input"].Dimensions);
        var features = test.ReadAllPixels();
        using var input = OrtValue.CreateTensorValueFromMemory(features, [300, 13]);
        using var outputs = session.Run(new RunOptions(), ["input"], [input], ["logits"]);
        var onnx = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        var torch = NetworkTrainer.PredictLogits(network, test);
        Assert.True(onnx.Zip(torch, (a, b) => Math.Abs(a - b)).Max() < 1e-4);
        // …and it is a teacher like any other: one score per class for each row of 13 values.
        using var teachers = Mtkd.Training.Teachers.OnnxTeachers.Load([Mtkd.Training.Teachers.TeacherModel.FromBytes(bytes, "mlp.onnx")]);
        teachers.CheckFits(test);
        Assert.True(teachers.Logits(test).Zip(torch, (a, b) => Math.Abs(a - b)).Max() < 1e-4);
    }

    [Fact]
    public void The_mlp_preset_scales_with_width_and_refuses_bad_sizes()
    {
        Assert.Equal([128, 64], NetworkPresets.Get(NetworkPresets.MlpPreset).Layers.OfType<LinearLayer>().Select(l => l.OutFeatures).Where(o => o > 0));
        Assert.Equal([64, 32], NetworkPresets.Get(NetworkPresets.MlpPreset, width: 32).Layers.OfType<LinearLayer>().Select(l => l.OutFeatures).Where(o => o > 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => NetworkPresets.Mlp([16, 0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => NetworkPresets.Mlp([16], dropout: 1));
    }
}
