using Google.Protobuf;
using Mtkd.Training.Onnx.Proto;

namespace Mtkd.Training.Onnx;

/// <summary>
/// Cuts an ONNX model down to what one output needs (as Python's <c>onnx.utils.extract_model</c>): the nodes that
/// compute it, their initializers, and only the graph inputs they read. Why: converters such as ML.NET's declare every
/// column of the data as an input (the label too), and ONNX Runtime asks for every declared input, so a teacher that
/// needs only the features could not be scored on features alone.
/// </summary>
public static class OnnxSubgraph
{
    /// <summary>
    /// The model with <paramref name="outputName"/> as its only output and nothing it does not need; fields this
    /// reader does not know are kept as they were. An output the model lacks is refused naming the ones it has.
    /// </summary>
    public static byte[] Extract(byte[] model, string outputName, string what)
    {
        ArgumentNullException.ThrowIfNull(model);
        ModelProto proto;
        try
        {
            proto = ModelProto.Parser.ParseFrom(model);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{what} is not an ONNX model: {e.Message}", e);
        }
        var graph = proto.Graph ?? throw new InvalidDataException($"{what} has no graph.");
        var output = graph.Output.FirstOrDefault(o => o.Name == outputName)
            ?? throw new ArgumentException($"{what} has no output '{outputName}'; its outputs are {string.Join(", ", graph.Output.Select(o => $"'{o.Name}'"))}.");

        // Walk back from the output: every value it depends on, and the nodes that produce them.
        var producer = new Dictionary<string, NodeProto>();
        foreach (var node in graph.Node)
            foreach (var value in node.Output)
                producer[value] = node;
        var needed = new HashSet<string>();
        var kept = new HashSet<NodeProto>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<string>([outputName]);
        while (pending.TryPop(out var value))
        {
            if (value.Length == 0 || !needed.Add(value) || !producer.TryGetValue(value, out var node) || !kept.Add(node))
                continue;
            foreach (var input in node.Input)
                pending.Push(input);
        }

        var nodes = graph.Node.Where(kept.Contains).ToArray();
        var initializers = graph.Initializer.Where(i => needed.Contains(i.Name)).ToArray();
        var inputs = graph.Input.Where(i => needed.Contains(i.Name)).ToArray();
        var valueInfo = graph.ValueInfo.Where(v => needed.Contains(v.Name)).ToArray();
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        graph.Initializer.Clear();
        graph.Initializer.AddRange(initializers);
        graph.Input.Clear();
        graph.Input.AddRange(inputs);
        graph.ValueInfo.Clear();
        graph.ValueInfo.AddRange(valueInfo);
        graph.Output.Clear();
        graph.Output.Add(output);
        return proto.ToByteArray();
    }
}
