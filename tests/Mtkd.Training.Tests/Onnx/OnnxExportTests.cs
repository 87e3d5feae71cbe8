using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using Mtkd.Training.Data;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Engine;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Onnx;

public sealed class OnnxExportTests
{
    private static readonly string[] ClassNames = Enumerable.Range(0, 10).Select(i => $"c{i}").ToArray();

    /// <summary>A network whose batch-norm statistics have moved off their initial values, so eval mode matters.</summary>
    private static SequentialNetwork TrainedABit(string preset)
    {
        var random = new Random(7);
        var pixels = Enumerable.Range(0, 64 * 784).Select(_ => (float)random.NextDouble()).ToArray();
        var labels = Enumerable.Range(0, 64).Select(i => i % 10).ToArray();
        var data = new ImageDataset(pixels, labels, 1, 28, 28, ClassNames); // synthetic noise images: only shapes matter here
        var network = NetworkTrainer.CreateNetwork(NetworkPresets.Get(preset), data, seed: 3);
        NetworkTrainer.TrainSupervised(network, data, new TrainerOptions { Epochs = 2, BatchSize = 16 });
        return network;
    }

    [Fact]
    public void MetadataCarriesClassNamesLayoutAndProducer()
    {
        using var network = TrainedABit(NetworkPresets.CnnSmall);
        using var session = new InferenceSession(OnnxExporter.Export(network, new OnnxExportOptions { ClassNames = ClassNames }));

        var metadata = session.ModelMetadata;
        Assert.Equal("Mtkd", metadata.ProducerName);
        Assert.Equal("NCHW", metadata.CustomMetadataMap["input_layout"]);
        Assert.Contains("\"c9\"", metadata.CustomMetadataMap["class_names"]);
        Assert.Equal(-1, session.InputMetadata["input"].Dimensions[0]); // dynamic batch
    }

}
