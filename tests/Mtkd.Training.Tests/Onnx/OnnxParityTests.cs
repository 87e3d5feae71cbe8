using Microsoft.ML.OnnxRuntime;
using Mtkd.Training;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Onnx.Proto;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Onnx;

/// <summary>
/// One theory for every export: each preset (and a network with squeeze-and-excitation, the layer kind added
/// outside the presets) as an ordinary and a mimic_all student, on grey 28×28 and RGB inputs up to 240×320, with
/// batch norm kept or folded, at several opsets. Each is valid by the specification's rules, has the parameters
/// and MACs its spec counts (the MACs taken again from the graph's shapes), loads in ONNX Runtime with full
/// optimization, and gives TorchSharp's eval logits and probabilities within 1e-4 on batches of 1 and 7.
/// </summary>
public sealed class OnnxParityTests(ITestOutputHelper output)
{
    private const string SqueezeExcitation = "se-cnn";

    private static NetworkSpec Spec(string name, int? width) => name == SqueezeExcitation
        ? new NetworkSpec(SqueezeExcitation,
        [
            new Conv2dLayer(8), new BatchNorm2dLayer(), new ReluLayer(), new SqueezeExcitationLayer(Reduction: 4), new MaxPool2dLayer(),
            new Conv2dLayer(16), new ReluLayer(), new SqueezeExcitationLayer(Reduction: 8), new GlobalAveragePoolLayer(), new LinearLayer(),
        ])
        : NetworkPresets.Get(name, width);

    // network, width, channels, height, width in pixels, heads, fold batch norm, opset
    public static TheoryData<string, int?, int, int, int, int, bool, int> Cases()
    {
        var cases = new TheoryData<string, int?, int, int, int, int, bool, int>();
        foreach (var preset in NetworkPresets.Names.Append(SqueezeExcitation))
            foreach (int heads in new[] { 1, 3 })
                foreach (bool fold in new[] { false, true })
                    cases.Add(preset, preset == NetworkPresets.ResNet20 ? 8 : null, 1, 28, 28, heads, fold, 13);
        foreach (int opset in new[] { 9, 11, 17, OnnxExportOptions.NewestOpset })
        {
            cases.Add(NetworkPresets.ResNet8, null, 1, 28, 28, 3, true, opset);
            cases.Add(NetworkPresets.MobileNetTiny, null, 1, 28, 28, 1, false, opset);
        }
        // Other widths and image sizes: photographs, and a network at a width of its own.
        cases.Add(NetworkPresets.MobileNetTiny, 8, 3, 240, 320, 1, false, 13);
        cases.Add(NetworkPresets.ResNet8, 4, 3, 240, 320, 1, true, 13);
        cases.Add(NetworkPresets.CnnSmall, null, 3, 60, 80, 1, false, 13);
        cases.Add(NetworkPresets.ResNet8, 8, 1, 28, 28, 3, false, 13);
        cases.Add(NetworkPresets.CnnSmall, null, 1, 28, 28, 2, false, 13);
        return cases;
    }

    /// <summary>Moves batch-norm statistics off their initial values (synthetic noise batches), so evaluation mode matters.</summary>
    internal static SequentialNetwork Build(NetworkSpec spec, int channels, int height, int width, int heads)
    {
        TorchRuntime.EnsureLoaded();
        random.manual_seed(21);
        var network = new SequentialNetwork(spec, channels, height, width, 10, heads);
        network.train();
        using (no_grad())
            for (int i = 0; i < 3; i++)
            {
                using var scope = NewDisposeScope();
                network.forward(rand(4, channels, height, width) * 2);
            }
        network.eval();
        return network;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_export_is_valid_counts_what_it_computes_and_matches_TorchSharp(string name, int? width, int channels, int height, int widthPixels,
        int heads, bool fold, int opset)
    {
        using var network = Build(Spec(name, width), channels, height, widthPixels, heads);
        var bytes = OnnxExporter.Export(network, new OnnxExportOptions { FoldBatchNorm = fold, Opset = opset, FeaturesName = "features" });
        Assert.Empty(OnnxModelValidator.Check(bytes));
        var model = ModelProto.Parser.ParseFrom(bytes);
        Assert.Equal(fold, model.Graph.Node.All(n => n.OpType != "BatchNormalization"));
        Assert.Equal(network.ParameterCount, network.Complexity.Parameters);
        var cost = OnnxModelInfo.Read(bytes, name).Cost; // counted from the graph's shapes, not from the spec
        Assert.Empty(cost.Uncounted);
        Assert.Equal(network.Complexity.MultiplyAccumulates, cost.MultiplyAccumulates);

        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(bytes, options);
        foreach (int batch in new[] { 1, 7 })
        {
            using var scope = NewDisposeScope();
            var input = rand(batch, channels, height, widthPixels);
            float[] expectedLogits, expectedProbabilities;
            using (no_grad())
            {
                var logits = network.forward(input);
                expectedLogits = logits.data<float>().ToArray();
                expectedProbabilities = nn.functional.softmax(logits, 1).data<float>().ToArray();
            }
            using var value = OrtValue.CreateTensorValueFromMemory(input.data<float>().ToArray(), [batch, channels, height, widthPixels]);
            using var outputs = session.Run(new RunOptions(), ["input"], [value], ["logits", "probabilities"]);
            double logitGap = MaxAbsDifference(expectedLogits, outputs[0].GetTensorDataAsSpan<float>().ToArray());
            double probabilityGap = MaxAbsDifference(expectedProbabilities, outputs[1].GetTensorDataAsSpan<float>().ToArray());
            output.WriteLine($"{name} w={width} {channels}×{height}×{widthPixels} heads={heads} fold={fold} opset={opset} batch={batch}: max |Δ| " +
                $"logits {logitGap:G3}, probabilities {probabilityGap:G3}");
            Assert.True(logitGap < 1e-4, $"logits: max |Δ| = {logitGap:G3}");
            Assert.True(probabilityGap < 1e-4, $"probabilities: max |Δ| = {probabilityGap:G3}");
        }
    }

    [Theory]
    [InlineData(NetworkPresets.CnnSmall, 1, 13)]
    [InlineData(NetworkPresets.ResNet8, 3, 9)]
    [InlineData(NetworkPresets.MlpPreset, 1, 17)]
    public void A_binary_export_gives_one_logit_the_class_logits_difference_and_its_sigmoid(string name, int heads, int opset)
    {
        TorchRuntime.EnsureLoaded();
        random.manual_seed(5);
        using var network = new SequentialNetwork(NetworkPresets.Get(name), 1, 28, 28, 2, heads);
        network.eval();
        var bytes = OnnxExporter.Export(network, new OnnxExportOptions { BinaryLogit = true, Opset = opset });
        Assert.Empty(OnnxModelValidator.Check(bytes));
        using var session = new InferenceSession(bytes);
        Assert.Equal([-1, 1], session.OutputMetadata["logits"].Dimensions);

        using var scope = NewDisposeScope();
        var input = rand(5, 1, 28, 28);
        float[] logits;
        using (no_grad())
            logits = network.forward(input).data<float>().ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(input.data<float>().ToArray(), [5, 1, 28, 28]);
        using var outputs = session.Run(new RunOptions(), ["input"], [value], ["logits", "probabilities"]);
        var z = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        var p = outputs[1].GetTensorDataAsSpan<float>().ToArray();
        for (int i = 0; i < 5; i++)
        {
            Assert.True(Math.Abs(logits[2 * i + 1] - logits[2 * i] - z[i]) < 1e-4, $"row {i}: z {z[i]}, logits {logits[2 * i]}, {logits[2 * i + 1]}");
            Assert.True(Math.Abs(1 / (1 + Math.Exp(-z[i])) - p[i]) < 1e-6);
        }
    }

    [Fact]
    public void A_binary_export_of_more_than_two_classes_is_refused()
    {
        using var network = Build(NetworkPresets.Get(NetworkPresets.CnnSmall), 1, 28, 28, 1);
        var error = Assert.Throws<ArgumentException>(() => OnnxExporter.Export(network, new OnnxExportOptions { BinaryLogit = true }));
        Assert.Contains("10 classes", error.Message);
    }

    private static double MaxAbsDifference(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        return expected.Zip(actual, (a, b) => (double)Math.Abs(a - b)).Max();
    }
}
