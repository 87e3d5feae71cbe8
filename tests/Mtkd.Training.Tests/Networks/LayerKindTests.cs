using Microsoft.ML.OnnxRuntime;
using Mtkd.Training;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Networks;

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
