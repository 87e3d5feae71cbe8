using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Mtkd.Training;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Onnx.Proto;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Onnx;

/// <summary>The validator finds what a broken graph gets wrong, and the exporter refuses opsets it was not tested at (parity itself: <see cref="OnnxParityTests"/>).</summary>
public sealed class ExportValidityTests
{
    private static SequentialNetwork Build(string preset, int heads) =>
        OnnxParityTests.Build(NetworkPresets.Get(preset, preset == NetworkPresets.ResNet20 ? 8 : null), 1, 28, 28, heads);

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
