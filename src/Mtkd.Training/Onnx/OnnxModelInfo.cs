using Google.Protobuf;
using Mtkd.Training.Onnx.Proto;

namespace Mtkd.Training.Onnx;

/// <summary>One graph input or output: its element type and shape (null for a symbolic dimension such as the batch).</summary>
public sealed record OnnxTensorInfo(string Name, string ElementType, IReadOnlyList<long?> Shape, IReadOnlyList<string?> DimensionNames)
{
    public override string ToString() =>
        $"{Name}: {ElementType}[{string.Join(", ", Shape.Select((d, i) => d?.ToString() ?? DimensionNames[i] ?? "?"))}]";
}

/// <summary>
/// What an ONNX file declares, read straight from its protobuf: inputs and outputs, opsets, parameter count and
/// the operator that produces each output. Used to accept teachers as users bring them and by <c>mtkd inspect</c>.
/// </summary>
public sealed class OnnxModelInfo
{
    // Operators that only move or relabel values; the producer of an output is looked up through them.
    private static readonly HashSet<string> PassThroughOps = ["Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Cast"];

    private readonly Dictionary<string, NodeProto> producers = new();

    private OnnxModelInfo(string source, ModelProto model)
    {
        Source = source;
        var graph = model.Graph;
        IrVersion = model.IrVersion;
        Producer = string.IsNullOrEmpty(model.ProducerVersion) ? model.ProducerName : $"{model.ProducerName} {model.ProducerVersion}";
        Opsets = model.OpsetImport.GroupBy(o => o.Domain).ToDictionary(g => g.Key == "" ? "ai.onnx" : g.Key, g => g.Max(o => o.Version));
        Metadata = model.MetadataProps.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value);
        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet();
        // Before IR version 4 every initializer was also listed as a graph input; those are weights, not inputs.
        Inputs = graph.Input.Where(i => !initializers.Contains(i.Name)).Select(Describe).ToArray();
        Outputs = graph.Output.Select(Describe).ToArray();
        // An int8 model's weights are the integer tensors its DequantizeLinear nodes read; their scales and zero points are not parameters.
        var quantization = graph.Node.Where(n => n.OpType is "QuantizeLinear" or "DequantizeLinear").SelectMany(n => n.Input.Skip(1)).ToHashSet();
        var quantizedWeights = graph.Node.Where(n => n.OpType == "DequantizeLinear").Select(n => n.Input[0]).ToHashSet();
        ParameterCount = graph.Initializer.Where(t => !quantization.Contains(t.Name) && (IsFloatingPoint(t) || quantizedWeights.Contains(t.Name)))
            .Sum(t => t.Dims.Aggregate(1L, (a, b) => a * b));
        IsInt8 = OnnxQuantizer.IsQuantized(graph);
        NodeCount = graph.Node.Count;
        ExternalDataFiles = graph.Initializer.Where(t => t.DataLocation == TensorProto.Types.DataLocation.External)
            .Select(t => t.ExternalData.LastOrDefault(e => e.Key == "location")?.Value ?? "")
            .Distinct().ToArray();
        Cost = OnnxGraphCost.Of(graph);
        foreach (var node in graph.Node)
            foreach (var output in node.Output)
                producers[output] = node;
    }

    /// <summary>
    /// The files holding weights outside the model (ONNX external data: what exporters write for models over 2 GB), as
    /// the model names them, relative to its folder; empty when every weight is inside. An entry without a location is "".
    /// </summary>
    public IReadOnlyList<string> ExternalDataFiles { get; }

    /// <summary>
    /// Where each external data file of the model at <paramref name="modelPath"/> is, checked: a location must be a
    /// relative path inside the model's folder (no absolute paths, no "..": a model must not read files elsewhere) and
    /// the file must exist. The error names the model and the location.
    /// </summary>
    internal IReadOnlyList<string> ResolveExternalData(string modelPath)
    {
        var folder = Path.GetFullPath(Path.GetDirectoryName(Path.GetFullPath(modelPath))!);
        var resolved = new List<string>();
        foreach (var location in ExternalDataFiles)
        {
            if (location.Length == 0)
                throw new InvalidDataException($"'{Source}' has a weight stored outside the model without naming the file (an external_data entry with no location).");
            var full = Path.GetFullPath(Path.Combine(folder, location));
            if (Path.IsPathRooted(location) || !full.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new InvalidDataException(
                    $"'{Source}' reads weights from '{location}', outside the model's folder {folder}; external data must be a file beside the model or below its folder.");
            if (!File.Exists(full))
                throw new FileNotFoundException($"'{Source}' keeps its weights in '{location}', which is not in {folder}; copy it beside the model.", full);
            resolved.Add(full);
        }
        return resolved;
    }

    /// <summary>The file or stream name the model was read from, for messages.</summary>
    public string Source { get; }
    public long IrVersion { get; }
    public string Producer { get; }

    /// <summary>Opset version per operator domain ("ai.onnx" for the default domain).</summary>
    public IReadOnlyDictionary<string, long> Opsets { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyList<OnnxTensorInfo> Inputs { get; }
    public IReadOnlyList<OnnxTensorInfo> Outputs { get; }

    /// <summary>Number of floating-point weights stored as initializers.</summary>
    public long ParameterCount { get; }

    /// <summary>Whether the model is quantized (QuantizeLinear nodes, as <see cref="OnnxQuantizer"/> writes): its weights are int8.</summary>
    public bool IsInt8 { get; }
    public int NodeCount { get; }

    /// <summary>Multiply-accumulates per image, from the graph's shapes.</summary>
    public OnnxGraphCost Cost { get; }

    /// <summary>The default-domain opset, or 0 when the model imports none.</summary>
    public long Opset => Opsets.TryGetValue("ai.onnx", out var v) ? v : 0;

    /// <summary>Reads a model file; a file that is not an ONNX model gets an error naming it.</summary>
    public static OnnxModelInfo Read(string path)
    {
        if (Directory.Exists(path))
            throw new FileNotFoundException($"{path} is a folder; give the ONNX model file itself.", path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"ONNX model not found: {path}", path);
        return Read(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads a model from its bytes; <paramref name="source"/> names it in errors.</summary>
    public static OnnxModelInfo Read(byte[] model, string source)
    {
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(model);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new InvalidDataException($"'{source}' is not an ONNX model: its bytes are not an ONNX ModelProto ({ex.Message}).", ex);
        }
        if (proto.Graph is null || proto.Graph.Node.Count == 0 || proto.OpsetImport.Count == 0 || proto.Graph.Output.Count == 0)
            throw new InvalidDataException(
                $"'{source}' is not an ONNX model: expected a ModelProto with a graph, nodes, outputs and an opset import" +
                $" (found {(proto.Graph is null ? "no graph" : $"{proto.Graph.Node.Count} nodes, {proto.Graph.Output.Count} outputs")}, {proto.OpsetImport.Count} opset imports).");
        return new OnnxModelInfo(source, proto);
    }

    /// <summary>
    /// The operator that computes <paramref name="valueName"/>, looking through shape-only operators such as
    /// Identity and Reshape; null when the value is a graph input or initializer.
    /// </summary>
    public string? ProducerOf(string valueName)
    {
        string name = valueName;
        for (int hops = 0; hops < 64 && producers.TryGetValue(name, out var node); hops++)
        {
            if (!PassThroughOps.Contains(node.OpType) || node.Input.Count == 0)
                return node.OpType;
            name = node.Input[0];
        }
        return null;
    }

    /// <summary>True when the output comes out of a Softmax, so it holds probabilities rather than logits.</summary>
    public bool IsProbabilityOutput(string outputName) => ProducerOf(outputName) == "Softmax";

    private static bool IsFloatingPoint(TensorProto t) =>
        t.DataType is (int)TensorProto.Types.DataType.Float or (int)TensorProto.Types.DataType.Double
            or (int)TensorProto.Types.DataType.Float16 or 16 /* BFLOAT16 */;

    private static OnnxTensorInfo Describe(ValueInfoProto value)
    {
        var tensor = value.Type?.TensorType;
        if (tensor is null)
            return new OnnxTensorInfo(value.Name, "non-tensor", [], []);
        var dims = tensor.Shape?.Dim ?? [];
        return new OnnxTensorInfo(value.Name, ElementTypeName(tensor.ElemType),
            dims.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : (long?)null).ToArray(),
            dims.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam ? d.DimParam : null).ToArray());
    }

    private static string ElementTypeName(int type) => type switch
    {
        1 => "float32", 2 => "uint8", 3 => "int8", 4 => "uint16", 5 => "int16", 6 => "int32", 7 => "int64",
        8 => "string", 9 => "bool", 10 => "float16", 11 => "float64", 16 => "bfloat16",
        _ => $"type{type}",
    };
}
