using Microsoft.ML.OnnxRuntime;
using Mtkd.Training.Data;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Onnx.Proto;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Onnx;

/// <summary>
/// Post-training int8 quantization: on every preset (and squeeze-and-excitation), the QDQ graph is valid by the
/// structural rules, its weights are int8, ONNX Runtime turns it into int8 kernels (checked on the graph it
/// optimizes), and its probabilities on the calibration images stay within 0.05 of the float graph's. Calibration
/// images are SYNTHETIC noise: the networks are untrained, so what is checked is the arithmetic, not accuracy.
/// </summary>
public sealed class OnnxQuantizerTests(ITestOutputHelper output)
{
    private const double ProbabilityTolerance = 0.05;

    private static ImageDataset Noise(int count, int channels, int height, int width, int seed = 3)
    {
        var random = new Random(seed);
        var pixels = new float[count * channels * height * width];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)random.NextDouble();
        return new ImageDataset(pixels, Enumerable.Range(0, count).Select(i => i % 10).ToArray(), channels, height, width,
            Enumerable.Range(0, 10).Select(c => $"c{c}").ToArray());
    }

    // network, input channels, height, width, batch norm folded at export (else the quantizer folds it in the graph)
    public static TheoryData<string, int, int, int, bool> Cases() => new()
    {
        { NetworkPresets.CnnSmall, 1, 28, 28, false },
        { NetworkPresets.CnnSmall, 1, 28, 28, true },
        { NetworkPresets.TeacherCnn, 1, 28, 28, true },
        { NetworkPresets.ResNet8, 1, 28, 28, false },
        { NetworkPresets.MobileNetTiny, 3, 32, 32, false },
        { NetworkPresets.MlpPreset, 64, 1, 1, false },
        { "se-cnn", 1, 28, 28, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_int8_graph_is_valid_uses_int8_kernels_and_stays_close_to_the_float_graph(string name, int channels, int height, int width, bool folded)
    {
        var spec = name == "se-cnn"
            ? new NetworkSpec("se-cnn", [new Conv2dLayer(8), new BatchNorm2dLayer(), new ReluLayer(), new SqueezeExcitationLayer(Reduction: 4),
                new MaxPool2dLayer(), new Conv2dLayer(16), new ReluLayer(), new GlobalAveragePoolLayer(), new LinearLayer()])
            : NetworkPresets.Get(name);
        using var network = OnnxParityTests.Build(spec, channels, height, width, heads: 1);
        var floatModel = OnnxExporter.Export(network, new OnnxExportOptions { FoldBatchNorm = folded });
        var calibration = Noise(64, channels, height, width);
        var int8 = OnnxQuantizer.Quantize(floatModel, calibration, new QuantizationOptions { CalibrationImages = 64 }, name);

        Assert.Empty(OnnxModelValidator.Check(int8));
        Assert.True(OnnxQuantizer.IsQuantized(int8));
        Assert.False(OnnxQuantizer.IsQuantized(floatModel));
        var graph = ModelProto.Parser.ParseFrom(int8).Graph;
        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        var producers = graph.Node.ToDictionary(n => n.Output[0]);
        foreach (var node in graph.Node.Where(n => n.OpType is "Conv" or "Gemm"))
        {
            // Every weight is int8 behind a per-channel DequantizeLinear; no float weight is left.
            Assert.False(initializers.ContainsKey(node.Input[1]), $"{node.Name} reads float weights");
            var dq = producers[node.Input[1]];
            Assert.Equal("DequantizeLinear", dq.OpType);
            Assert.Equal((int)TensorProto.Types.DataType.Int8, initializers[dq.Input[0]].DataType);
        }
        Assert.Contains(graph.Output, o => o.Name == "logits");
        Assert.DoesNotContain(graph.Node, n => n.OpType == "BatchNormalization");
        // The same parameters (now int8) and multiply-accumulates as the folded float graph, counted from the int8 graph.
        var floatInfo = OnnxModelInfo.Read(OnnxExporter.Export(network, new OnnxExportOptions { FoldBatchNorm = true }), name);
        var int8Info = OnnxModelInfo.Read(int8, name);
        Assert.True(int8Info.IsInt8);
        Assert.Equal(floatInfo.ParameterCount, int8Info.ParameterCount);
        Assert.Empty(int8Info.Cost.Uncounted);
        Assert.Equal(floatInfo.Cost.MultiplyAccumulates, int8Info.Cost.MultiplyAccumulates);

        var kernels = OptimizedOps(int8);
        output.WriteLine($"{name} (folded at export: {folded}): ONNX Runtime runs {string.Join(", ", kernels.GroupBy(k => k).Select(g => $"{g.Key}×{g.Count()}"))}");
        Assert.Contains(kernels, k => k is "QLinearConv" or "QGemm" or "MatMulInteger" or "QLinearMatMul");
        Assert.DoesNotContain("Conv", kernels); // no convolution or Gemm left in float
        Assert.DoesNotContain("Gemm", kernels);

        var (floatProbabilities, agreeFloat) = Probabilities(floatModel, calibration);
        var (int8Probabilities, _) = Probabilities(int8, calibration);
        double gap = floatProbabilities.Zip(int8Probabilities).Max(p => Math.Abs(p.First - p.Second));
        output.WriteLine($"{name} (folded at export: {folded}): max |Δ probability| {gap:F4} over {calibration.Count} calibration images; {int8.Length:N0} bytes against {floatModel.Length:N0}");
        Assert.True(gap <= ProbabilityTolerance, $"max |Δ probability| {gap:F4} > {ProbabilityTolerance}");
    }

    [Fact]
    public void Percentile_calibration_gives_a_valid_model_too()
    {
        using var network = OnnxParityTests.Build(NetworkPresets.Get(NetworkPresets.CnnSmall), 1, 28, 28, heads: 1);
        var floatModel = OnnxExporter.Export(network, new OnnxExportOptions { FoldBatchNorm = true });
        var calibration = Noise(40, 1, 28, 28);
        var int8 = OnnxQuantizer.Quantize(floatModel, calibration, new QuantizationOptions { Method = CalibrationMethod.Percentile, Percentile = 99.9 });
        Assert.Empty(OnnxModelValidator.Check(int8));
        var gap = Probabilities(floatModel, calibration).Values.Zip(Probabilities(int8, calibration).Values).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(gap <= ProbabilityTolerance, $"max |Δ probability| {gap:F4}");
    }

    [Fact]
    public void An_empty_a_corrupt_or_a_wrongly_sized_calibration_set_is_refused_by_name()
    {
        using var network = OnnxParityTests.Build(NetworkPresets.Get(NetworkPresets.CnnSmall), 1, 28, 28, heads: 1);
        var floatModel = OnnxExporter.Export(network, new OnnxExportOptions { FoldBatchNorm = true });

        var empty = Assert.Throws<ArgumentException>(() => OnnxQuantizer.Quantize(floatModel, Noise(0, 1, 28, 28), name: "student.onnx"));
        Assert.Contains("calibration set for student.onnx is empty", empty.Message);

        var pixels = Noise(10, 1, 28, 28).ReadAllPixels();
        pixels[7 * 784 + 100] = float.NaN;
        var corrupt = new ImageDataset(pixels, new int[10], 1, 28, 28, Enumerable.Range(0, 10).Select(c => $"c{c}").ToArray());
        var nan = Assert.Throws<InvalidDataException>(() => OnnxQuantizer.Quantize(floatModel, corrupt));
        Assert.Contains("Calibration image 7", nan.Message);

        var wrongSize = Assert.Throws<ArgumentException>(() => OnnxQuantizer.Quantize(floatModel, Noise(4, 3, 32, 32), name: "student.onnx"));
        Assert.Contains("3×32×32", wrongSize.Message);
        Assert.Contains("1×28×28", wrongSize.Message);

        var int8 = OnnxQuantizer.Quantize(floatModel, Noise(8, 1, 28, 28));
        Assert.Contains("already quantized", Assert.Throws<ArgumentException>(() => OnnxQuantizer.Quantize(int8, Noise(8, 1, 28, 28))).Message);
        var opset11 = OnnxExporter.Export(network, new OnnxExportOptions { FoldBatchNorm = true, Opset = 11 });
        Assert.Contains("opset 13", Assert.Throws<ArgumentException>(() => OnnxQuantizer.Quantize(opset11, Noise(8, 1, 28, 28))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxQuantizer.Quantize(floatModel, Noise(8, 1, 28, 28), new QuantizationOptions { CalibrationImages = 0 }));
    }

    [Fact]
    public void A_binary_students_int8_graph_keeps_its_one_float_logit()
    {
        TorchRuntime.EnsureLoaded();
        random.manual_seed(5);
        using var network = new SequentialNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), 1, 28, 28, 2);
        network.eval();
        var floatModel = OnnxExporter.Export(network, new OnnxExportOptions { BinaryLogit = true, FoldBatchNorm = true });
        var calibration = Noise(32, 1, 28, 28);
        var int8 = OnnxQuantizer.Quantize(floatModel, calibration);
        using var session = new InferenceSession(int8);
        Assert.Equal([-1, 1], session.OutputMetadata["logits"].Dimensions);
        var graph = ModelProto.Parser.ParseFrom(int8).Graph;
        // The class logits are not rounded to uint8 before their difference: nothing quantizes the Gemm's output.
        var gemm = graph.Node.Single(n => n.OpType == "Gemm");
        Assert.DoesNotContain(graph.Node, n => n.OpType == "QuantizeLinear" && n.Input[0] == gemm.Output[0]);
        var gap = Probabilities(floatModel, calibration).Values.Zip(Probabilities(int8, calibration).Values).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(gap <= ProbabilityTolerance, $"max |Δ probability| {gap:F4}");
    }

    /// <summary>The op types of the graph ONNX Runtime runs after its optimizations (written to a file by the session).</summary>
    internal static List<string> OptimizedOps(byte[] model)
    {
        string path = Path.Combine(Path.GetTempPath(), $"mtkd-optimized-{Guid.NewGuid():N}.onnx");
        try
        {
            using (var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_EXTENDED, OptimizedModelFilePath = path })
            using (new InferenceSession(model, options)) { }
            return ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph.Node.Select(n => n.OpType).ToList();
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static (float[] Values, int Rows) Probabilities(byte[] model, ImageDataset images)
    {
        using var session = new InferenceSession(model);
        var dims = session.InputMetadata["input"].Dimensions.Length == 2 ? new long[] { images.Count, images.ImageSize }
            : [images.Count, images.Channels, images.Height, images.Width];
        using var value = OrtValue.CreateTensorValueFromMemory(images.ReadAllPixels(), dims);
        using var outputs = session.Run(new RunOptions(), ["input"], [value], ["probabilities"]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), images.Count);
    }
}
