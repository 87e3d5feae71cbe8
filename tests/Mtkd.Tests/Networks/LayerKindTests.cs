using Microsoft.ML.OnnxRuntime;
using Mtkd.Training;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using static TorchSharp.torch;

namespace Mtkd.Tests.Networks;

/// <summary>
/// A layer kind outside the presets (squeeze-and-excitation, added as one file and a registration) trains, counts,
/// serializes and exports like the others: ONNX Runtime agrees with TorchSharp, the graph's MACs with the spec's.
/// </summary>
public sealed class LayerKindTests
{
    private static readonly NetworkSpec WithSqueezeExcitation = new("se-cnn",
    [
        new Conv2dLayer(8), new BatchNorm2dLayer(), new ReluLayer(), new SqueezeExcitationLayer(Reduction: 4), new MaxPool2dLayer(),
        new Conv2dLayer(16), new ReluLayer(), new SqueezeExcitationLayer(Reduction: 8), new GlobalAveragePoolLayer(), new LinearLayer(),
    ]);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Squeeze_excitation_exports_matching_TorchSharp_and_counts_what_the_graph_computes(bool fold)
    {
        TorchRuntime.EnsureLoaded();
        random.manual_seed(4);
        using var network = new SequentialNetwork(WithSqueezeExcitation, 1, 28, 28, 10);
        network.train();
        using (no_grad())
            for (int i = 0; i < 3; i++)
            {
                using var scope = NewDisposeScope();
                network.forward(rand(8, 1, 28, 28) * 2); // moves the batch-norm statistics off their initial values
            }
        network.eval();

        Assert.Equal(network.ParameterCount, network.Complexity.Parameters);
        var bytes = OnnxExporter.Export(network, new OnnxExportOptions { FoldBatchNorm = fold });
        Assert.Empty(OnnxModelValidator.Check(bytes));
        var cost = OnnxModelInfo.Read(bytes, "se-cnn").Cost;
        Assert.Empty(cost.Uncounted);
        Assert.Equal(network.Complexity.MultiplyAccumulates, cost.MultiplyAccumulates);

        using var session = new InferenceSession(bytes, new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL });
        using var scope2 = NewDisposeScope();
        var input = rand(5, 1, 28, 28);
        float[] expected;
        using (no_grad()) expected = network.forward(input).data<float>().ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(input.data<float>().ToArray(), [5, 1, 28, 28]);
        using var outputs = session.Run(new RunOptions(), ["input"], [value], ["logits"]);
        double worst = expected.Zip(outputs[0].GetTensorDataAsSpan<float>().ToArray(), (a, b) => (double)Math.Abs(a - b)).Max();
        Assert.True(worst < 1e-4, $"max |Δ| = {worst:G3}");
    }

    [Fact]
    public void The_new_kind_round_trips_through_json_and_refuses_a_flat_input_by_index()
    {
        var json = System.Text.Json.JsonSerializer.Serialize(WithSqueezeExcitation);
        Assert.Contains("\"type\":\"squeeze_excitation\"", json);
        var back = System.Text.Json.JsonSerializer.Deserialize<NetworkSpec>(json)!;
        Assert.Equal(WithSqueezeExcitation.Layers, back.Layers);
        var misplaced = new NetworkSpec("bad", [new FlattenLayer(), new SqueezeExcitationLayer(), new LinearLayer()]);
        var e = Assert.Throws<InvalidOperationException>(() => misplaced.InferShapes(1, 28, 28, 10));
        Assert.Contains("layer 1 (SqueezeExcitationLayer", e.Message);
        Assert.Contains("needs C×H×W feature maps", e.Message);
    }
}
