using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using Mtkd.Training.Data;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Engine;
using static TorchSharp.torch;

namespace Mtkd.Tests;

public sealed class OnnxExportTests(ITestOutputHelper output)
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

    [Theory]
    [InlineData(NetworkPresets.CnnSmall, 1)]
    [InlineData(NetworkPresets.CnnSmall, 7)]
    [InlineData(NetworkPresets.TeacherCnn, 1)]
    [InlineData(NetworkPresets.TeacherCnn, 7)]
    public void OnnxRuntimeMatchesTorchSharpEval(string preset, int batch)
    {
        using var network = TrainedABit(preset);
        var bytes = OnnxExporter.Export(network, new OnnxExportOptions { ClassNames = ClassNames });
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(bytes, options);

        random.manual_seed(batch);
        using var input = rand(batch, 1, 28, 28);
        network.eval();
        float[] expectedLogits, expectedProbabilities;
        using (no_grad())
        using (var logits = network.forward(input))
        using (var probabilities = nn.functional.softmax(logits, 1))
        {
            expectedLogits = logits.data<float>().ToArray();
            expectedProbabilities = probabilities.data<float>().ToArray();
        }

        using var value = OrtValue.CreateTensorValueFromMemory(input.data<float>().ToArray(), [batch, 1, 28, 28]);
        using var outputs = session.Run(new RunOptions(), ["input"], [value], ["logits", "probabilities"]);
        var actualLogits = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        var actualProbabilities = outputs[1].GetTensorDataAsSpan<float>().ToArray();

        Assert.Equal(batch * 10, actualLogits.Length);
        output.WriteLine($"{preset}, batch {batch}: max abs diff logits {MaxAbsDiff(expectedLogits, actualLogits):E2}, probabilities {MaxAbsDiff(expectedProbabilities, actualProbabilities):E2}");
        Assert.True(MaxAbsDiff(expectedLogits, actualLogits) < 1e-4, $"logits differ by {MaxAbsDiff(expectedLogits, actualLogits)}");
        Assert.True(MaxAbsDiff(expectedProbabilities, actualProbabilities) < 1e-4, $"probabilities differ by {MaxAbsDiff(expectedProbabilities, actualProbabilities)}");
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

    private static float MaxAbsDiff(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
}
