using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Mtkd.Training;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Networks;

/// <summary>Every preset, on grey 28×28 and on RGB inputs up to 240×320: shapes, counts, and ONNX parity with TorchSharp.</summary>
public sealed class ArchitectureTests
{
    public static TheoryData<string, int?, int, int, int, int> Cases() => new()
    {
        { NetworkPresets.CnnSmall, null, 1, 28, 28, 1 },
        { NetworkPresets.TeacherCnn, null, 1, 28, 28, 1 },
        { NetworkPresets.ResNet8, null, 1, 28, 28, 1 },
        { NetworkPresets.ResNet20, 8, 1, 28, 28, 1 },
        { NetworkPresets.MobileNetTiny, null, 1, 28, 28, 1 },
        { NetworkPresets.MobileNetTiny, 8, 3, 240, 320, 1 },
        { NetworkPresets.ResNet8, 4, 3, 240, 320, 1 },
        { NetworkPresets.CnnSmall, null, 3, 60, 80, 1 },
        { NetworkPresets.ResNet8, 8, 1, 28, 28, 3 }, // a mimic_all student with three heads
        { NetworkPresets.CnnSmall, null, 1, 28, 28, 2 },
    };

    private static SequentialNetwork Build(string preset, int? width, int channels, int height, int widthPixels, int heads) =>
        Onnx.OnnxParityTests.Build(NetworkPresets.Get(preset, width), channels, height, widthPixels, heads);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Counted_parameters_match_the_module(string preset, int? width, int channels, int height, int widthPixels, int heads)
    {
        using var network = Build(preset, width, channels, height, widthPixels, heads);
        Assert.Equal(network.ParameterCount, network.Complexity.Parameters);
        // The spec's MAC count against one taken from the exported graph's shapes, which knows nothing of layer kinds.
        Assert.Equal(OnnxModelInfo.Read(OnnxExporter.Export(network), preset).Cost.MultiplyAccumulates, network.Complexity.MultiplyAccumulates);
    }

    [Theory]
    [InlineData(NetworkPresets.TeacherCnn, 1)]
    [InlineData(NetworkPresets.ResNet8, 3)]
    public void The_features_output_is_what_the_final_linear_layer_reads(string preset, int heads)
    {
        using var network = Build(preset, 8, 1, 28, 28, heads);
        using var session = new InferenceSession(OnnxExporter.Export(network, new OnnxExportOptions { FeaturesName = "features" }));
        using var scope = NewDisposeScope();
        var input = rand(2, 1, 28, 28);
        using var value = OrtValue.CreateTensorValueFromMemory(input.data<float>().ToArray(), [2, 1, 28, 28]);
        using var outputs = session.Run(new RunOptions(), ["input"], [value], ["features"]);
        var features = tensor(outputs[0].GetTensorDataAsSpan<float>().ToArray(), [2, network.Shapes[^2].Size]);
        var head = (TorchSharp.Modules.Linear)(heads == 1 ? network.LayerModules[^1] : network.HeadModules[0]);
        float[] expected, actual;
        using (no_grad())
        {
            expected = network.ForwardHeads(input).select(1, 0).data<float>().ToArray();
            actual = head.forward(features).data<float>().ToArray();
        }
        Assert.True(expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max() < 1e-4);
    }

    [Fact]
    public void Multiply_accumulates_of_cnn_small_by_hand()
    {
        // conv 8@3×3 on 28×28×1: 28·28·8·9 = 56,448; conv 16@3×3 on 14×14×8: 14·14·16·8·9 = 225,792; linear 784→10: 7,840.
        var complexity = NetworkComplexity.Of(NetworkPresets.Get(NetworkPresets.CnnSmall), 1, 28, 28, 10);
        Assert.Equal(56448 + 225792 + 7840, complexity.MultiplyAccumulates);
        Assert.Equal(9146, complexity.Parameters);
    }

    [Theory]
    [InlineData(NetworkPresets.ResNet8, 8)]
    [InlineData(NetworkPresets.ResNet20, 20)]
    public void ResNets_have_the_depth_in_their_name(string preset, int depth)
    {
        // Weighted layers: the stem conv, two convs per basic block, the classifier.
        var spec = NetworkPresets.Get(preset);
        int weighted = spec.Layers.Sum(l => l switch { Conv2dLayer or LinearLayer => 1, ResidualBlockLayer => 2, _ => 0 });
        Assert.Equal(depth, weighted);
    }

    [Fact]
    public void Width_scales_every_channel_count()
    {
        var narrow = NetworkComplexity.Of(NetworkPresets.Get(NetworkPresets.ResNet8, 8), 1, 28, 28, 10);
        var wide = NetworkComplexity.Of(NetworkPresets.Get(NetworkPresets.ResNet8, 32), 1, 28, 28, 10);
        Assert.True(wide.Parameters > 10 * narrow.Parameters);
        Assert.Throws<ArgumentOutOfRangeException>(() => NetworkPresets.Get(NetworkPresets.ResNet8, 0));
    }

    [Fact]
    public void Specs_round_trip_through_json()
    {
        foreach (var name in NetworkPresets.Names)
        {
            var spec = NetworkPresets.Get(name);
            var back = JsonSerializer.Deserialize<NetworkSpec>(JsonSerializer.Serialize(spec))!;
            Assert.Equal(spec.Layers, back.Layers);
        }
    }
}
