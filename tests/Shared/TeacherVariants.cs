using Google.Protobuf;
using Mtkd.Training;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Onnx.Proto;
using static TorchSharp.torch;

namespace Mtkd.Tests;

/// <summary>
/// A small untrained ONNX classifier (synthetic: random weights, which is all these tests need) and rewrites of
/// it into the forms users bring: channels-last inputs, probability outputs, other names, old opsets, fixed batches.
/// Every variant computes the same function as the original, so its scores can be checked against it.
/// </summary>
internal static class TeacherVariants
{
    /// <param name="anySize">End in global average pooling, so the graph takes images of any height and width (the declared size may then be rewritten).</param>
    public static ModelProto Base(int channels = 3, int size = 8, int classes = 5, int seed = 1, bool anySize = false)
    {
        TorchRuntime.EnsureLoaded();
        random.manual_seed(seed);
        var spec = new NetworkSpec("tiny", [new Conv2dLayer(4), new ReluLayer(), anySize ? new GlobalAveragePoolLayer() : new MaxPool2dLayer(), new FlattenLayer(), new LinearLayer()]);
        using var network = new SequentialNetwork(spec, channels, size, size, classes);
        return ModelProto.Parser.ParseFrom(OnnxExporter.Export(network, new OnnxExportOptions { ProbabilitiesName = "probabilities" }));
    }

    public static byte[] Bytes(this ModelProto model) => model.ToByteArray();

    /// <summary>Takes [batch, H, W, C] under a new name and transposes it to the original NCHW input, as tf2onnx graphs do.</summary>
    public static ModelProto ChannelsLast(this ModelProto model, string inputName = "input_1:0")
    {
        var copy = model.Clone();
        var input = copy.Graph.Input[0];
        var dims = input.Type.TensorType.Shape.Dim;
        var (c, h, w) = (dims[1].DimValue, dims[2].DimValue, dims[3].DimValue);
        var transpose = new NodeProto { OpType = "Transpose", Name = "to_nchw", Input = { inputName }, Output = { input.Name } };
        transpose.Attribute.Add(new AttributeProto { Name = "perm", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 0, 3, 1, 2 } });
        copy.Graph.Node.Insert(0, transpose);
        input.Name = inputName;
        dims[1].DimValue = h;
        dims[2].DimValue = w;
        dims[3].DimValue = c;
        return copy;
    }

    /// <summary>Keeps only the named outputs, in that order.</summary>
    public static ModelProto Outputs(this ModelProto model, params string[] names)
    {
        var copy = model.Clone();
        var all = copy.Graph.Output.Concat(copy.Graph.ValueInfo).ToDictionary(o => o.Name);
        copy.Graph.Output.Clear();
        foreach (var name in names) copy.Graph.Output.Add(all[name]);
        return copy;
    }

    /// <summary>A broken teacher: its logits divided by zero, so they come out ±∞ (or NaN where a logit is 0).</summary>
    public static ModelProto NonFiniteLogits(this ModelProto model)
    {
        var copy = model.RenameOutput("logits", "finite_logits");
        copy.Graph.Output.Single(o => o.Name == "finite_logits").Name = "logits";
        copy.Graph.Initializer.Add(new TensorProto { Name = "zero", DataType = 1, FloatData = { 0f } });
        copy.Graph.Node.Add(new NodeProto { OpType = "Div", Name = "broken", Input = { "finite_logits", "zero" }, Output = { "logits" } });
        return copy;
    }

    /// <summary>Renames a graph output (and the node that writes it).</summary>
    public static ModelProto RenameOutput(this ModelProto model, string from, string to)
    {
        var copy = model.Clone();
        foreach (var node in copy.Graph.Node)
        {
            for (int i = 0; i < node.Output.Count; i++) if (node.Output[i] == from) node.Output[i] = to;
            for (int i = 0; i < node.Input.Count; i++) if (node.Input[i] == from) node.Input[i] = to;
        }
        foreach (var output in copy.Graph.Output) if (output.Name == from) output.Name = to;
        return copy;
    }

    /// <summary>Exposes an inner activation as an extra [batch, size] output, listed first.</summary>
    public static ModelProto WithFeatureOutput(this ModelProto model, string valueName, int size, string outputName = "features")
    {
        var copy = model.Clone();
        var identity = new NodeProto { OpType = "Identity", Name = "expose", Input = { valueName }, Output = { outputName } };
        copy.Graph.Node.Add(identity);
        copy.Graph.Output.Insert(0, Tensor2d(outputName, size));
        return copy;
    }

    /// <summary>An older opset. With <paramref name="irVersion"/> 3, initializers are also listed as graph inputs, as such models did.</summary>
    public static ModelProto Opset(this ModelProto model, int opset, int irVersion)
    {
        var copy = model.Clone();
        copy.OpsetImport.Clear();
        copy.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        copy.IrVersion = irVersion;
        if (irVersion < 4)
            foreach (var initializer in copy.Graph.Initializer)
            {
                var shape = new TensorShapeProto();
                foreach (var d in initializer.Dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
                copy.Graph.Input.Add(new ValueInfoProto
                {
                    Name = initializer.Name,
                    Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = initializer.DataType, Shape = shape } },
                });
            }
        return copy;
    }

    /// <summary>Fixes the batch dimension of the input and outputs, as exports without dynamic axes do.</summary>
    public static ModelProto FixedBatch(this ModelProto model, int batch)
    {
        var copy = model.Clone();
        foreach (var value in copy.Graph.Input.Take(1).Concat(copy.Graph.Output))
            value.Type.TensorType.Shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimValue = batch };
        return copy;
    }

    /// <summary>
    /// The same model with every weight in one external data file named <paramref name="location"/> (relative to the
    /// model's folder), as exporters write models over 2 GB: the model, and the bytes of that file.
    /// </summary>
    public static (ModelProto Model, byte[] Weights) ExternalData(this ModelProto model, string location)
    {
        var copy = model.Clone();
        using var weights = new MemoryStream();
        foreach (var tensor in copy.Graph.Initializer)
        {
            var bytes = tensor.RawData.Length > 0 ? tensor.RawData.ToByteArray()
                : tensor.FloatData.SelectMany(BitConverter.GetBytes).Concat(tensor.Int64Data.SelectMany(BitConverter.GetBytes)).ToArray();
            long offset = weights.Position;
            weights.Write(bytes);
            tensor.RawData = ByteString.Empty;
            tensor.FloatData.Clear();
            tensor.Int64Data.Clear();
            tensor.DataLocation = TensorProto.Types.DataLocation.External;
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = bytes.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }
        return (copy, weights.ToArray());
    }

    private static ValueInfoProto Tensor2d(string name, int size)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = size });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
    }
}
