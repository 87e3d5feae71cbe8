using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Mtkd.Training;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Onnx.Proto;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Mtkd.Tests.Networks;

/// <summary>
/// Every preset, as an ordinary and as a mimic_all student, with batch norm kept or folded, at several opsets:
/// valid by the specification's rules, loaded by ONNX Runtime with full optimization, and equal to TorchSharp's
/// eval output within 1e-4 on random batches of 1 and 7.
/// </summary>
public sealed class ExportValidityTests(ITestOutputHelper output)
{
    public static TheoryData<string, int, bool, int> Cases()
    {
        var cases = new TheoryData<string, int, bool, int>();
        foreach (var preset in NetworkPresets.Names)
            foreach (int heads in new[] { 1, 3 })
                foreach (bool fold in new[] { false, true })
                    cases.Add(preset, heads, fold, 13);
        foreach (int opset in new[] { 9, 11, 17, OnnxExportOptions.NewestOpset })
        {
            cases.Add(NetworkPresets.ResNet8, 3, true, opset);
            cases.Add(NetworkPresets.MobileNetTiny, 1, false, opset);
        }
        return cases;
    }

    private static SequentialNetwork Build(string preset, int heads)
    {
        TorchRuntime.EnsureLoaded();
        random.manual_seed(21);
        var network = new SequentialNetwork(NetworkPresets.Get(preset, preset == NetworkPresets.ResNet20 ? 8 : null), 1, 28, 28, 10, heads);
        network.train();
        using (no_grad())
            for (int i = 0; i < 3; i++)
            {
                using var scope = NewDisposeScope();
                network.forward(rand(8, 1, 28, 28) * 2); // moves the batch-norm statistics off their initial values
            }
        network.eval();
        return network;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Exports_are_valid_load_with_full_optimization_and_match_TorchSharp(string preset, int heads, bool fold, int opset)
    {
        using var network = Build(preset, heads);
        var bytes = OnnxExporter.Export(network, new OnnxExportOptions { FoldBatchNorm = fold, Opset = opset, FeaturesName = "features", ClassNames = FashionClassNames });
        Assert.Empty(OnnxModelValidator.Check(bytes));
        var model = ModelProto.Parser.ParseFrom(bytes);
        Assert.Equal(fold, model.Graph.Node.All(n => n.OpType != "BatchNormalization"));
        var cost = OnnxModelInfo.Read(bytes, preset).Cost; // counted from the graph's shapes, not from the spec
        Assert.Empty(cost.Uncounted);
        Assert.Equal(network.Complexity.MultiplyAccumulates, cost.MultiplyAccumulates);

        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        using var session = new InferenceSession(bytes, options);
        foreach (int batch in new[] { 1, 7 })
        {
            using var scope = NewDisposeScope();
            var input = rand(batch, 1, 28, 28);
            float[] expected;
            using (no_grad()) expected = network.forward(input).data<float>().ToArray();
            using var value = OrtValue.CreateTensorValueFromMemory(input.data<float>().ToArray(), [batch, 1, 28, 28]);
            using var outputs = session.Run(new RunOptions(), ["input"], [value], ["logits"]);
            double worst = expected.Zip(outputs[0].GetTensorDataAsSpan<float>().ToArray(), (a, b) => (double)Math.Abs(a - b)).Max();
            output.WriteLine($"{preset} heads={heads} fold={fold} opset={opset} batch={batch}: max |Δ| = {worst:G3}");
            Assert.True(worst < 1e-4, $"max |Δ| = {worst:G3}");
        }
    }

    private static readonly string[] FashionClassNames = Mtkd.Training.Data.FashionMnist.ClassNames.ToArray();

    [Fact]
    public void The_validator_reports_broken_graphs()
    {
        using var network = Build(NetworkPresets.CnnSmall, 1);
        var model = ModelProto.Parser.ParseFrom(OnnxExporter.Export(network));
        model.Graph.Node[1].Input[0] = "nowhere";                                   // a dangling input
        model.Graph.Node[0].Attribute.First(a => a.Name == "group").Type = AttributeProto.Types.AttributeType.Float; // a mistyped attribute
        model.Graph.Initializer[0].Dims[0] += 1;                                      // data no longer fits its dims
        model.OpsetImport.Clear();
        var problems = OnnxModelValidator.Check(model.ToByteArray());
        Assert.Contains(problems, p => p.Contains("'nowhere'"));
        Assert.Contains(problems, p => p.Contains("attribute 'group' is Float"));
        Assert.Contains(problems, p => p.Contains("need") && p.Contains("holds"));
        Assert.Contains(problems, p => p.Contains("no opset_import"));
        var ex = Assert.Throws<InvalidDataException>(() => OnnxModelValidator.Validate(model.ToByteArray(), "broken.onnx"));
        Assert.Contains("broken.onnx", ex.Message);
    }

    [Fact]
    public void Opsets_before_9_or_after_the_newest_tested_are_refused()
    {
        using var network = Build(NetworkPresets.CnnSmall, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => OnnxExporter.Export(network, new OnnxExportOptions { Opset = 8 }));
        var future = Assert.Throws<ArgumentOutOfRangeException>(() => OnnxExporter.Export(network, new OnnxExportOptions { Opset = 99 }));
        Assert.Contains($"Opsets 9 to {OnnxExportOptions.NewestOpset} are supported", future.Message);
    }
}
