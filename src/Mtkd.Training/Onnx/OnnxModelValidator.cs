using Google.Protobuf;
using Mtkd.Training.Onnx.Proto;

namespace Mtkd.Training.Onnx;

/// <summary>
/// Checks a model against the ONNX specification's structural rules, as the reference checker does for the
/// operators Mtkd writes: an opset import for the default domain; typed, shaped graph inputs and outputs;
/// initializers whose data matches their dims; nodes in topological order, each input defined before use and
/// each output written once; every graph output produced; and, per operator, the inputs and typed attributes
/// the operator's definition requires. No ONNX checker is available on .NET, so this is ours.
/// </summary>
internal static class OnnxModelValidator
{
    private sealed record OperatorRule(int MinInputs, int MaxInputs, int SinceOpset, (string Name, AttributeProto.Types.AttributeType Type, bool Required)[] Attributes);

    private static readonly AttributeProto.Types.AttributeType Int = AttributeProto.Types.AttributeType.Int, Ints = AttributeProto.Types.AttributeType.Ints,
        Float = AttributeProto.Types.AttributeType.Float;

    // The operators the exporter writes (and the Transpose that channels-last wrappers add), from the ONNX operator docs.
    private static readonly Dictionary<string, OperatorRule> Rules = new()
    {
        ["Conv"] = new(2, 3, 1, [("kernel_shape", Ints, false), ("strides", Ints, false), ("pads", Ints, false), ("dilations", Ints, false), ("group", Int, false)]),
        ["BatchNormalization"] = new(5, 5, 1, [("epsilon", Float, false), ("momentum", Float, false)]),
        ["Relu"] = new(1, 1, 1, []),
        ["MaxPool"] = new(1, 1, 1, [("kernel_shape", Ints, true), ("strides", Ints, false), ("pads", Ints, false)]),
        ["Flatten"] = new(1, 1, 1, [("axis", Int, false)]),
        ["Gemm"] = new(2, 3, 1, [("transA", Int, false), ("transB", Int, false), ("alpha", Float, false), ("beta", Float, false)]),
        ["Softmax"] = new(1, 1, 1, [("axis", Int, false)]),
        ["Identity"] = new(1, 1, 1, []),
        ["Add"] = new(2, 2, 1, []),
        ["Mul"] = new(2, 2, 1, []),
        ["Sub"] = new(2, 2, 1, []),
        ["Div"] = new(2, 2, 1, []),
        ["Sum"] = new(1, int.MaxValue, 1, []),
        ["Log"] = new(1, 1, 1, []),
        ["MatMul"] = new(2, 2, 1, []),
        ["Sigmoid"] = new(1, 1, 1, []),
        ["GlobalAveragePool"] = new(1, 1, 1, []),
        ["Transpose"] = new(1, 1, 1, [("perm", Ints, false)]),
        // What the int8 quantizer writes around them (axis: per-channel scales, opset 13).
        ["QuantizeLinear"] = new(2, 3, 10, [("axis", Int, false)]),
        ["DequantizeLinear"] = new(2, 3, 10, [("axis", Int, false)]),
    };

    // Bytes per value of the element types initializers are written in.
    private static int ElementSize(int type) => (TensorProto.Types.DataType)type switch
    {
        TensorProto.Types.DataType.Uint8 or TensorProto.Types.DataType.Int8 or TensorProto.Types.DataType.Bool => 1,
        TensorProto.Types.DataType.Int16 or TensorProto.Types.DataType.Uint16 or TensorProto.Types.DataType.Float16 => 2,
        TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Double => 8,
        _ => 4,
    };

    /// <summary>The problems found; empty for a valid model.</summary>
    public static IReadOnlyList<string> Check(byte[] model)
    {
        var problems = new List<string>();
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(model);
        }
        catch (InvalidProtocolBufferException ex)
        {
            return [$"not an ONNX ModelProto: {ex.Message}"];
        }
        if (proto.IrVersion < 3) problems.Add($"ir_version {proto.IrVersion}: must be set (3 or newer)");
        long opset = proto.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
        if (opset == 0) problems.Add("no opset_import for the default domain");
        var graph = proto.Graph;
        if (graph is null) return [.. problems, "no graph"];

        var defined = new HashSet<string>();
        foreach (var input in graph.Input)
        {
            CheckValueInfo(input, "graph input", problems);
            if (!defined.Add(input.Name)) problems.Add($"graph input '{input.Name}' is declared twice");
        }
        foreach (var initializer in graph.Initializer)
        {
            if (string.IsNullOrEmpty(initializer.Name)) problems.Add("an initializer has no name");
            defined.Add(initializer.Name);
            long count = initializer.Dims.Aggregate(1L, (a, b) => a * b);
            long stored = initializer.RawData.Length > 0 ? initializer.RawData.Length / ElementSize(initializer.DataType)
                : initializer.DataType == (int)TensorProto.Types.DataType.Float ? initializer.FloatData.Count
                : initializer.DataType == (int)TensorProto.Types.DataType.Int64 ? initializer.Int64Data.Count : count;
            if (stored != count) problems.Add($"initializer '{initializer.Name}': dims [{string.Join(",", initializer.Dims)}] need {count} values, it holds {stored}");
        }

        var names = new HashSet<string>();
        foreach (var node in graph.Node)
        {
            string where = $"node '{node.Name}' ({node.OpType})";
            if (!string.IsNullOrEmpty(node.Name) && !names.Add(node.Name)) problems.Add($"{where}: the node name is used twice");
            foreach (var input in node.Input)
                if (input.Length > 0 && !defined.Contains(input))
                    problems.Add($"{where}: input '{input}' is not a graph input, an initializer or the output of an earlier node");
            foreach (var output in node.Output)
                if (!defined.Add(output)) problems.Add($"{where}: output '{output}' is already defined (values are written once)");
            if (node.Domain is not ("" or "ai.onnx")) continue;
            if (!Rules.TryGetValue(node.OpType, out var rule))
            {
                problems.Add($"{where}: not an operator this checker knows");
                continue;
            }
            if (opset < rule.SinceOpset) problems.Add($"{where}: needs opset {rule.SinceOpset}, the model imports {opset}");
            if (node.Input.Count < rule.MinInputs || node.Input.Count > rule.MaxInputs)
                problems.Add($"{where}: {node.Input.Count} inputs; the operator takes {rule.MinInputs}–{(rule.MaxInputs == int.MaxValue ? "any" : rule.MaxInputs)}");
            foreach (var attribute in node.Attribute)
            {
                var expected = rule.Attributes.FirstOrDefault(a => a.Name == attribute.Name);
                if (expected.Name is null) problems.Add($"{where}: attribute '{attribute.Name}' is not defined for {node.OpType}");
                else if (attribute.Type != expected.Type) problems.Add($"{where}: attribute '{attribute.Name}' is {attribute.Type}, {node.OpType} defines it as {expected.Type}");
                else if (attribute.Type == Ints && attribute.Ints.Count == 0) problems.Add($"{where}: attribute '{attribute.Name}' is an empty list");
            }
            foreach (var (name, _, required) in rule.Attributes)
                if (required && node.Attribute.All(a => a.Name != name)) problems.Add($"{where}: required attribute '{name}' is missing");
        }
        foreach (var output in graph.Output)
        {
            CheckValueInfo(output, "graph output", problems);
            if (!defined.Contains(output.Name)) problems.Add($"graph output '{output.Name}' is not produced by any node");
        }
        return problems;
    }

    /// <summary>Throws, listing every problem, unless the model is valid.</summary>
    public static void Validate(byte[] model, string name)
    {
        var problems = Check(model);
        if (problems.Count > 0)
            throw new InvalidDataException($"{name} is not a valid ONNX model:\n  " + string.Join("\n  ", problems));
    }

    private static void CheckValueInfo(ValueInfoProto value, string role, List<string> problems)
    {
        if (value.Type?.TensorType is not { } tensor) { problems.Add($"{role} '{value.Name}' has no tensor type"); return; }
        if (tensor.ElemType == 0) problems.Add($"{role} '{value.Name}' has no element type");
        if (tensor.Shape is null) problems.Add($"{role} '{value.Name}' has no shape");
        else if (tensor.Shape.Dim.Any(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue <= 0))
            problems.Add($"{role} '{value.Name}' has a dimension that is not positive");
    }
}
