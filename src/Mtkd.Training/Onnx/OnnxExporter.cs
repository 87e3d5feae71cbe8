using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx.Proto;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Onnx;

/// <summary>
/// Writes a <see cref="SequentialNetwork"/> as an ONNX model in inference form: batch norm with its running
/// statistics, dropout removed, a dynamic batch dimension. TorchSharp has no exporter of its own.
/// </summary>
public static class OnnxExporter
{
    private const string Producer = "Mtkd";

    public static byte[] Export(SequentialNetwork network, OnnxExportOptions? options = null) =>
        BuildModel(network, options ?? new OnnxExportOptions()).ToByteArray();

    /// <summary>Exports to a file (written to a temporary file first, then renamed).</summary>
    public static void Export(SequentialNetwork network, string path, OnnxExportOptions? options = null) =>
        AtomicFile.WriteAllBytes(path, Export(network, options));

    private static ModelProto BuildModel(SequentialNetwork network, OnnxExportOptions options)
    {
        if (options.Opset < 13)
            throw new ArgumentOutOfRangeException(nameof(options), options.Opset, "Opset 13 or newer is supported.");
        var graph = new GraphProto { Name = network.Spec.Name };
        var input = network.InputShape;
        graph.Input.Add(TensorValue(options.InputName, "batch", input.Channels, input.Height, input.Width));

        string current = options.InputName;
        var spec = network.Spec;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            string name = $"layers.{i}";
            bool last = i == spec.Layers.Count - 1;
            string output = last ? options.LogitsName : $"{name}.output";
            var module = network.LayerModules[i];
            switch (spec.Layers[i])
            {
                case Conv2dLayer c:
                    var conv = (Conv2d)module;
                    AddNode(graph, "Conv", name, [current, Initializer(graph, $"{name}.weight", conv.weight!), Initializer(graph, $"{name}.bias", conv.bias!)], output,
                        Ints("kernel_shape", c.Kernel, c.Kernel), Ints("strides", c.Stride, c.Stride),
                        Ints("pads", c.Padding, c.Padding, c.Padding, c.Padding), Ints("dilations", 1, 1), Int("group", 1));
                    break;
                case BatchNorm2dLayer:
                    var bn = (BatchNorm2d)module;
                    AddNode(graph, "BatchNormalization", name,
                        [current, Initializer(graph, $"{name}.weight", bn.weight!), Initializer(graph, $"{name}.bias", bn.bias!),
                         Initializer(graph, $"{name}.running_mean", bn.running_mean!), Initializer(graph, $"{name}.running_var", bn.running_var!)],
                        output, Float("epsilon", (float)bn.eps));
                    break;
                case ReluLayer:
                    AddNode(graph, "Relu", name, [current], output);
                    break;
                case MaxPool2dLayer p:
                    AddNode(graph, "MaxPool", name, [current], output, Ints("kernel_shape", p.Kernel, p.Kernel), Ints("strides", p.Kernel, p.Kernel));
                    break;
                case FlattenLayer:
                    AddNode(graph, "Flatten", name, [current], output, Int("axis", 1));
                    break;
                case LinearLayer:
                    var linear = (Linear)module;
                    AddNode(graph, "Gemm", name, [current, Initializer(graph, $"{name}.weight", linear.weight!), Initializer(graph, $"{name}.bias", linear.bias!)],
                        output, Int("transB", 1));
                    break;
                case DropoutLayer:
                    // Identity at inference; only the final layer needs a node, to carry the output name.
                    if (!last) continue;
                    AddNode(graph, "Identity", name, [current], output);
                    break;
                default:
                    throw new NotSupportedException($"{spec.Name}: layer {i} ({spec.Layers[i]}) has no ONNX export.");
            }
            current = output;
        }
        graph.Output.Add(TensorValue(options.LogitsName, "batch", network.ClassCount));
        if (options.ProbabilitiesName is { } probabilities)
        {
            AddNode(graph, "Softmax", "softmax", [options.LogitsName], probabilities, Int("axis", 1));
            graph.Output.Add(TensorValue(probabilities, "batch", network.ClassCount));
        }

        var model = new ModelProto
        {
            IrVersion = 7, // the IR version that opset 13 shipped with; every runtime that reads opset 13 reads it
            ProducerName = Producer,
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
            Graph = graph,
            DocString = $"{spec.Name}, {network.ParameterCount} parameters, exported by Mtkd.",
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        AddMetadata(model, "network", JsonSerializer.Serialize(spec));
        AddMetadata(model, "input_layout", "NCHW");
        AddMetadata(model, "normalization", options.Normalization);
        if (options.ClassNames is { } names)
            AddMetadata(model, "class_names", JsonSerializer.Serialize(names));
        return model;
    }

    private static void AddMetadata(ModelProto model, string key, string value) =>
        model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });

    private static void AddNode(GraphProto graph, string op, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
    }

    private static string Initializer(GraphProto graph, string name, Tensor value)
    {
        using var cpu = value.detach().cpu().contiguous().to_type(ScalarType.Float32);
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(cpu.shape);
        var floats = cpu.data<float>().ToArray();
        proto.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(floats.AsSpan()));
        graph.Initializer.Add(proto);
        return name;
    }

    private static ValueInfoProto TensorValue(string name, string batchDimension, params int[] dimensions)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = batchDimension });
        foreach (var d in dimensions)
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };
}
