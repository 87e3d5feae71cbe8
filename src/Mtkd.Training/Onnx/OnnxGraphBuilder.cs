using System.Runtime.InteropServices;
using Google.Protobuf;
using Mtkd.Training.Onnx.Proto;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Onnx;

/// <summary>Writes ONNX nodes and initializers into a graph: the vocabulary layers export themselves with.</summary>
internal sealed class OnnxGraphBuilder(GraphProto graph)
{
    public GraphProto Graph { get; } = graph;

    public void AddNode(string op, string name, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
    }

    /// <summary>Adds a tensor's values (as float32) under <paramref name="name"/> and returns the name.</summary>
    public string Initializer(string name, Tensor value)
    {
        using var cpu = value.detach().cpu().contiguous().to_type(ScalarType.Float32);
        return Initializer(name, cpu.data<float>().ToArray(), cpu.shape);
    }

    /// <summary>Adds float32 values of shape <paramref name="dims"/> under <paramref name="name"/> and returns the name.</summary>
    public string Initializer(string name, float[] values, params long[] dims)
    {
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.Dims.AddRange(dims);
        proto.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        Graph.Initializer.Add(proto);
        return name;
    }

    /// <summary>A float32 initializer's values (raw data or float_data); another type is refused by name.</summary>
    public static float[] FloatValues(TensorProto tensor) =>
        tensor.DataType != (int)TensorProto.Types.DataType.Float ? throw new InvalidDataException($"Initializer '{tensor.Name}' is not float32.")
        : tensor.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray() : tensor.FloatData.ToArray();

    /// <summary>Adds a float32 scalar (a tensor without dimensions) under <paramref name="name"/> and returns the name.</summary>
    public string Scalar(string name, float value)
    {
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.FloatData.Add(value);
        Graph.Initializer.Add(proto);
        return name;
    }

    public void AddConv(string name, string input, string output, Conv2d conv, int kernel, int stride, int padding, int group)
    {
        var inputs = new List<string> { input, Initializer($"{name}.weight", conv.weight!) };
        if (conv.bias is { } bias)
            inputs.Add(Initializer($"{name}.bias", bias));
        AddNode("Conv", name, inputs.ToArray(), output, ConvAttributes(kernel, stride, padding, group));
    }

    public void AddBatchNorm(string name, string input, string output, BatchNorm bn) =>
        AddNode("BatchNormalization", name,
            [input, Initializer($"{name}.weight", bn.weight!), Initializer($"{name}.bias", bn.bias!),
             Initializer($"{name}.running_mean", bn.running_mean!), Initializer($"{name}.running_var", bn.running_var!)],
            output, Float("epsilon", (float)bn.eps));

    public void AddLinear(string name, string input, string output, Linear linear) =>
        AddNode("Gemm", name, [input, Initializer($"{name}.weight", linear.weight!), Initializer($"{name}.bias", linear.bias!)],
            output, Int("transB", 1));

    /// <summary>
    /// A convolution and the batch norm after it: two nodes, or with <paramref name="fold"/> one convolution with
    /// W' = W·γ/√(σ²+ε) per output channel and b' = (b − μ)·γ/√(σ²+ε) + β.
    /// </summary>
    public void AddConvBatchNorm(string name, string bnName, string input, string output, Conv2d conv, BatchNorm2d bn,
        int kernel, int stride, int padding, int group, bool fold)
    {
        if (!fold)
        {
            AddConv(name, input, $"{name}.output", conv, kernel, stride, padding, group);
            AddBatchNorm(bnName, $"{name}.output", output, bn);
            return;
        }
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (weight, bias) = Folded(conv.weight!, conv.bias, bn);
        AddNode("Conv", name, [input, Initializer($"{name}.weight", weight), Initializer($"{name}.bias", bias)], output,
            ConvAttributes(kernel, stride, padding, group));
    }

    /// <summary>A linear layer with the batch norm after it folded in: one Gemm writing <paramref name="output"/> (the batch norm's value).</summary>
    public void AddLinearBatchNorm(string name, string input, string output, Linear linear, BatchNorm bn)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (weight, bias) = Folded(linear.weight!, linear.bias, bn);
        AddNode("Gemm", name, [input, Initializer($"{name}.weight", weight), Initializer($"{name}.bias", bias)], output, Int("transB", 1));
    }

    // y = γ·(Wx + b − μ)/√(σ² + ε) + β: W's output rows scaled by s = γ/√(σ² + ε), bias s·(b − μ) + β. Inside the caller's dispose scope.
    private static (Tensor Weight, Tensor Bias) Folded(Tensor weight, Tensor? bias, BatchNorm bn)
    {
        var scale = bn.weight! / (bn.running_var! + bn.eps).sqrt();
        var perRow = Enumerable.Repeat(1L, (int)weight.dim()).ToArray();
        perRow[0] = -1;
        return (weight * scale.view(perRow), ((bias ?? zeros_like(bn.running_mean!)) - bn.running_mean!) * scale + bn.bias!);
    }

    private static AttributeProto[] ConvAttributes(int kernel, int stride, int padding, int group) =>
        [Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride), Ints("pads", padding, padding, padding, padding), Ints("dilations", 1, 1), Int("group", group)];

    public static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };
}
