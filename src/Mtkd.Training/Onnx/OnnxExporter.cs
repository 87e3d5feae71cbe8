using System.Runtime.InteropServices;
using System.Text.Json;
using Google.Protobuf;
using Mtkd.Training.Distillation;
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

    /// <summary>The model's bytes, checked by <see cref="OnnxModelValidator"/> before they are returned; a network with non-finite weights is refused.</summary>
    public static byte[] Export(SequentialNetwork network, OnnxExportOptions? options = null)
    {
        if (Training.TrainingLoop.FirstNonFiniteParameter(network) is { } bad)
            throw new InvalidDataException($"{network.Spec.Name}: '{bad}' holds non-finite values (NaN or ±∞), so the model would predict nothing; not exported. Retrain from the last good checkpoint with a lower learning rate.");
        var bytes = BuildModel(network, options ?? new OnnxExportOptions()).ToByteArray();
        OnnxModelValidator.Validate(bytes, $"The export of {network.Spec.Name}");
        return bytes;
    }

    /// <summary>Exports to a file (written to a temporary file first, then renamed).</summary>
    public static void Export(SequentialNetwork network, string path, OnnxExportOptions? options = null) =>
        AtomicFile.WriteAllBytes(path, Export(network, options));

    /// <summary>
    /// The supernet aggregator as a model of its own: input "teacher_outputs" [batch, D] (the teachers' logits or
    /// features, concatenated teacher by teacher), output "logits" [batch, C]: Sub, Div, Gemm.
    /// </summary>
    public static byte[] ExportAggregator(SupernetAggregator.Model aggregator, int opset = 13)
    {
        var graph = new GraphProto { Name = "supernet-aggregator" };
        graph.Input.Add(TensorValue("teacher_outputs", "batch", aggregator.InputWidth));
        graph.Initializer.Add(FloatTensor("mean", aggregator.Mean, 1, aggregator.InputWidth));
        graph.Initializer.Add(FloatTensor("std", aggregator.Std, 1, aggregator.InputWidth));
        graph.Initializer.Add(FloatTensor("weight", aggregator.Weight, aggregator.ClassCount, aggregator.InputWidth));
        graph.Initializer.Add(FloatTensor("bias", aggregator.Bias, aggregator.ClassCount));
        AddNode(graph, "Sub", "center", ["teacher_outputs", "mean"], "centered");
        AddNode(graph, "Div", "scale", ["centered", "std"], "standardized");
        AddNode(graph, "Gemm", "linear", ["standardized", "weight", "bias"], "logits", Int("transB", 1));
        graph.Output.Add(TensorValue("logits", "batch", aggregator.ClassCount));
        var model = new ModelProto
        {
            IrVersion = 7, ProducerName = Producer, Graph = graph, DocString = "The frozen aggregator of a supernet distillation, exported by Mtkd.",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        var bytes = model.ToByteArray();
        OnnxModelValidator.Validate(bytes, "The supernet aggregator export");
        return bytes;
    }

    private static TensorProto FloatTensor(string name, float[] values, params long[] dims)
    {
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(dims);
        proto.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        return proto;
    }

    private static ModelProto BuildModel(SequentialNetwork network, OnnxExportOptions options)
    {
        if (options.Opset is < 9 or > OnnxExportOptions.NewestOpset)
            throw new ArgumentOutOfRangeException(nameof(options), options.Opset, $"Opsets 9 to {OnnxExportOptions.NewestOpset} are supported (tested with ONNX Runtime).");
        var graph = new GraphProto { Name = network.Spec.Name };
        var input = network.InputShape;
        graph.Input.Add(TensorValue(options.InputName, "batch", input.Channels, input.Height, input.Width));

        string current = options.InputName;
        var spec = network.Spec;
        int bodyLayers = network.HeadCount > 1 ? spec.Layers.Count - 1 : spec.Layers.Count;
        bool fold = options.FoldBatchNorm;
        for (int i = 0; i < bodyLayers; i++)
        {
            string name = $"layers.{i}";
            bool last = i == spec.Layers.Count - 1;
            string output = last ? options.LogitsName : $"{name}.output";
            var module = network.LayerModules[i];
            if (last && options.FeaturesName is { } featuresName)
                AddFeatures(graph, network, current, featuresName);
            switch (spec.Layers[i])
            {
                case Conv2dLayer c when fold && i + 1 < bodyLayers && spec.Layers[i + 1] is BatchNorm2dLayer:
                    // The batch norm's node disappears; its output name stays, so later nodes read the same value.
                    output = i + 1 == spec.Layers.Count - 1 ? options.LogitsName : $"layers.{i + 1}.output";
                    AddConvBatchNorm(graph, name, $"layers.{i + 1}", current, output, (Conv2d)module, (BatchNorm2d)network.LayerModules[i + 1], c.Kernel, c.Stride, c.Padding, 1, fold);
                    i++;
                    break;
                case Conv2dLayer c:
                    AddConv(graph, name, current, output, (Conv2d)module, c.Kernel, c.Stride, c.Padding, group: 1);
                    break;
                case BatchNorm2dLayer:
                    AddBatchNorm(graph, name, current, output, (BatchNorm2d)module);
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
                    AddLinear(graph, name, current, output, (Linear)module);
                    break;
                case ResidualBlockLayer r:
                    AddResidualBlock(graph, name, current, output, (ResidualBlock)module, r.Stride, fold);
                    break;
                case DepthwiseSeparableLayer d:
                    var block = (DepthwiseSeparableBlock)module;
                    int inChannels = (int)block.depthwise.weight!.shape[0];
                    AddConvBatchNorm(graph, $"{name}.depthwise", $"{name}.bn1", current, $"{name}.bn1.output", block.depthwise, block.bn1, 3, d.Stride, 1, inChannels, fold);
                    AddNode(graph, "Relu", $"{name}.relu1", [$"{name}.bn1.output"], $"{name}.relu1.output");
                    AddConvBatchNorm(graph, $"{name}.pointwise", $"{name}.bn2", $"{name}.relu1.output", $"{name}.bn2.output", block.pointwise, block.bn2, 1, 1, 0, 1, fold);
                    AddNode(graph, "Relu", $"{name}.relu2", [$"{name}.bn2.output"], output);
                    break;
                case GlobalAveragePoolLayer:
                    AddNode(graph, "GlobalAveragePool", $"{name}.pool", [current], $"{name}.pooled");
                    AddNode(graph, "Flatten", name, [$"{name}.pooled"], output, Int("axis", 1));
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
        if (network.HeadCount > 1)
        {
            if (options.FeaturesName is { } featuresName)
                AddFeatures(graph, network, current, featuresName);
            AddMeanOfHeads(graph, network, current, options.LogitsName);
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
        if (options.Resize is { } resize)
            AddMetadata(model, "resize", resize.ToString().ToLowerInvariant());
        if (options.ClassNames is { } names)
            AddMetadata(model, "class_names", JsonSerializer.Serialize(names));
        if (options.TrainingRows is { } rows)
            AddMetadata(model, SoftLabels.TrainingRowSet.MetadataKey, rows.Encode());
        return model;
    }

    private static void AddMetadata(ModelProto model, string key, string value) =>
        model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });

    private static void AddFeatures(GraphProto graph, SequentialNetwork network, string value, string name)
    {
        if (network.Spec.Layers[^1] is not LinearLayer)
            throw new NotSupportedException($"{network.Spec.Name}: a features output needs the last layer to be Linear.");
        AddNode(graph, "Identity", "features", [value], name);
        graph.Output.Add(TensorValue(name, "batch", network.Shapes[^2].Size));
    }

    private static void AddConv(GraphProto graph, string name, string input, string output, Conv2d conv, int kernel, int stride, int padding, int group)
    {
        var inputs = new List<string> { input, Initializer(graph, $"{name}.weight", conv.weight!) };
        if (conv.bias is { } bias)
            inputs.Add(Initializer(graph, $"{name}.bias", bias));
        AddNode(graph, "Conv", name, inputs.ToArray(), output,
            Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride), Ints("pads", padding, padding, padding, padding),
            Ints("dilations", 1, 1), Int("group", group));
    }

    private static void AddBatchNorm(GraphProto graph, string name, string input, string output, BatchNorm2d bn) =>
        AddNode(graph, "BatchNormalization", name,
            [input, Initializer(graph, $"{name}.weight", bn.weight!), Initializer(graph, $"{name}.bias", bn.bias!),
             Initializer(graph, $"{name}.running_mean", bn.running_mean!), Initializer(graph, $"{name}.running_var", bn.running_var!)],
            output, Float("epsilon", (float)bn.eps));

    private static void AddLinear(GraphProto graph, string name, string input, string output, Linear linear) =>
        AddNode(graph, "Gemm", name, [input, Initializer(graph, $"{name}.weight", linear.weight!), Initializer(graph, $"{name}.bias", linear.bias!)],
            output, Int("transB", 1));

    private static void AddResidualBlock(GraphProto graph, string name, string input, string output, ResidualBlock block, int stride, bool fold)
    {
        AddConvBatchNorm(graph, $"{name}.conv1", $"{name}.bn1", input, $"{name}.bn1.output", block.conv1, block.bn1, 3, stride, 1, 1, fold);
        AddNode(graph, "Relu", $"{name}.relu1", [$"{name}.bn1.output"], $"{name}.relu1.output");
        AddConvBatchNorm(graph, $"{name}.conv2", $"{name}.bn2", $"{name}.relu1.output", $"{name}.bn2.output", block.conv2, block.bn2, 3, 1, 1, 1, fold);
        string shortcut = input;
        if (block.shortcut_conv is { } conv)
        {
            AddConvBatchNorm(graph, $"{name}.shortcut_conv", $"{name}.shortcut_bn", input, $"{name}.shortcut.output", conv, block.shortcut_bn!, 1, stride, 0, 1, fold);
            shortcut = $"{name}.shortcut.output";
        }
        AddNode(graph, "Add", $"{name}.add", [$"{name}.bn2.output", shortcut], $"{name}.sum");
        AddNode(graph, "Relu", name, [$"{name}.sum"], output);
    }

    /// <summary>
    /// A convolution and the batch norm after it: two nodes, or with <paramref name="fold"/> one convolution with
    /// W' = W·γ/√(σ²+ε) per output channel and b' = (b − μ)·γ/√(σ²+ε) + β.
    /// </summary>
    private static void AddConvBatchNorm(GraphProto graph, string name, string bnName, string input, string output, Conv2d conv, BatchNorm2d bn,
        int kernel, int stride, int padding, int group, bool fold)
    {
        if (!fold)
        {
            AddConv(graph, name, input, $"{name}.output", conv, kernel, stride, padding, group);
            AddBatchNorm(graph, bnName, $"{name}.output", output, bn);
            return;
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var scale = bn.weight! / (bn.running_var! + bn.eps).sqrt();
        var weight = conv.weight! * scale.view(-1, 1, 1, 1);
        var bias = ((conv.bias is { } b ? b : zeros_like(bn.running_mean!)) - bn.running_mean!) * scale + bn.bias!;
        AddNode(graph, "Conv", name, [input, Initializer(graph, $"{name}.weight", weight), Initializer(graph, $"{name}.bias", bias)], output,
            Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride), Ints("pads", padding, padding, padding, padding),
            Ints("dilations", 1, 1), Int("group", group));
    }

    // mimic_all students: logits = log(mean over heads of softmax(head)), so softmax(logits) is the heads' mean probability.
    private static void AddMeanOfHeads(GraphProto graph, SequentialNetwork network, string features, string logitsName)
    {
        var probabilities = new List<string>();
        for (int k = 0; k < network.HeadCount; k++)
        {
            string head = $"heads.{k}";
            AddLinear(graph, head, features, $"{head}.logits", (Linear)network.HeadModules[k]);
            AddNode(graph, "Softmax", $"{head}.softmax", [$"{head}.logits"], $"{head}.probabilities", Int("axis", 1));
            probabilities.Add($"{head}.probabilities");
        }
        AddNode(graph, "Sum", "heads.sum", probabilities.ToArray(), "heads.sum.output");
        var scale = new TensorProto { Name = "heads.count_inverse", DataType = (int)TensorProto.Types.DataType.Float };
        scale.FloatData.Add(1f / network.HeadCount);
        graph.Initializer.Add(scale);
        AddNode(graph, "Mul", "heads.mean", ["heads.sum.output", "heads.count_inverse"], "heads.mean_probabilities");
        AddNode(graph, "Log", "heads.log", ["heads.mean_probabilities"], logitsName);
    }

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
