using Mtkd.Training.Onnx.Proto;

namespace Mtkd.Training.Onnx;

/// <summary>
/// Multiply-accumulates of one image through a graph, found by propagating shapes node by node with a batch of
/// one. Convolutions, Gemm and MatMul count one MAC per weight use; element-wise operators, pooling and
/// normalization count as free, as <see cref="Networks.NetworkComplexity"/> does. Operators whose shapes it
/// cannot follow are listed in <see cref="Uncounted"/>, and the count is then a lower bound.
/// </summary>
public sealed record OnnxGraphCost(long MultiplyAccumulates, IReadOnlyList<string> Uncounted)
{
    private static readonly HashSet<string> SameShape = ["BatchNormalization", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "Identity", "Log", "Exp",
        "Softmax", "LogSoftmax", "Dropout", "Add", "Sub", "Mul", "Div", "Sum", "Cast", "Neg", "Sqrt", "Relu6", "HardSigmoid", "HardSwish",
        "QuantizeLinear", "DequantizeLinear"];

    internal static OnnxGraphCost Of(GraphProto graph)
    {
        var shapes = new Dictionary<string, long[]>();
        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        foreach (var i in graph.Initializer) shapes[i.Name] = i.Dims.ToArray();
        foreach (var input in graph.Input.Where(i => !initializers.ContainsKey(i.Name)))
        {
            var dims = input.Type?.TensorType?.Shape?.Dim;
            if (dims is null || dims.Skip(1).Any(d => d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue)) continue;
            shapes[input.Name] = [1, .. dims.Skip(1).Select(d => d.DimValue)];
        }

        long macs = 0;
        var uncounted = new List<string>();
        foreach (var node in graph.Node)
        {
            long[]? x = node.Input.Count > 0 && shapes.TryGetValue(node.Input[0], out var s) ? s : null;
            long[]? output = null;
            switch (node.OpType)
            {
                case "Conv" when x is { Length: 4 } && node.Input.Count > 1 && shapes.TryGetValue(node.Input[1], out var w) && w.Length == 4:
                    var strides = Ints(node, "strides") ?? [1, 1];
                    var pads = Ints(node, "pads") ?? [0, 0, 0, 0];
                    var dilations = Ints(node, "dilations") ?? [1, 1];
                    long oh = (x[2] + pads[0] + pads[2] - dilations[0] * (w[2] - 1) - 1) / strides[0] + 1;
                    long ow = (x[3] + pads[1] + pads[3] - dilations[1] * (w[3] - 1) - 1) / strides[1] + 1;
                    output = [1, w[0], oh, ow];
                    macs += oh * ow * w[0] * w[1] * w[2] * w[3];
                    break;
                case "MaxPool" or "AveragePool" when x is { Length: 4 }:
                    var kernel = Ints(node, "kernel_shape")!;
                    var poolStrides = Ints(node, "strides") ?? [1, 1];
                    var poolPads = Ints(node, "pads") ?? [0, 0, 0, 0];
                    output = [1, x[1], (x[2] + poolPads[0] + poolPads[2] - kernel[0]) / poolStrides[0] + 1, (x[3] + poolPads[1] + poolPads[3] - kernel[1]) / poolStrides[1] + 1];
                    break;
                case "GlobalAveragePool" or "GlobalMaxPool" when x is { Length: 4 }:
                    output = [1, x[1], 1, 1];
                    break;
                case "Flatten" when x is not null:
                    int axis = (int)(Int(node, "axis") ?? 1);
                    output = [x.Take(axis).Aggregate(1L, (a, b) => a * b), x.Skip(axis).Aggregate(1L, (a, b) => a * b)];
                    break;
                case "Gemm" when x is { Length: 2 } && shapes.TryGetValue(node.Input[1], out var b) && b.Length == 2:
                    bool transB = Int(node, "transB") == 1;
                    long n = transB ? b[0] : b[1];
                    output = [x[0], n];
                    macs += x[1] * n;
                    break;
                case "MatMul" when x is { Length: >= 2 } && shapes.TryGetValue(node.Input[1], out var m) && m.Length == 2:
                    output = [.. x[..^1], m[1]];
                    macs += x[..^1].Aggregate(1L, (p, d) => p * d) * x[^1] * m[1];
                    break;
                case "Transpose" when x is not null:
                    var perm = Ints(node, "perm") ?? Enumerable.Range(0, x.Length).Reverse().Select(i => (long)i).ToArray();
                    output = perm.Select(p => x[p]).ToArray();
                    break;
                case var op when SameShape.Contains(op) && x is not null:
                    output = x;
                    break;
                default:
                    uncounted.Add(node.OpType);
                    break;
            }
            if (output is not null)
                foreach (var name in node.Output) shapes[name] = output;
        }
        return new OnnxGraphCost(macs, uncounted.Distinct().ToArray());
    }

    private static long[]? Ints(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.Ints.ToArray() is { Length: > 0 } v ? v : null;

    private static long? Int(NodeProto node, string name) => node.Attribute.FirstOrDefault(a => a.Name == name)?.I;
}
