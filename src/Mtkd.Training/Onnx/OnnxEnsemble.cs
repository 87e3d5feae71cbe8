using Google.Protobuf;
using Mtkd.Training.Onnx.Proto;

namespace Mtkd.Training.Onnx;

/// <summary>How the members' outputs become the ensemble's.</summary>
public enum OnnxEnsembleFusion
{
    /// <summary>The mean of the members' logits (online ensemble compression's teacher; "logits" = the mean, "probabilities" its softmax).</summary>
    MeanLogits,

    /// <summary>The mean of the members' softmax probabilities ("probabilities"; "logits" = their logarithm, valid logits for the same distribution).</summary>
    MeanProbability,
}

/// <summary>Options of <see cref="OnnxEnsemble"/>.Merge.</summary>
public sealed class OnnxEnsembleOptions
{
    /// <summary>How the members are fused. Default <see cref="OnnxEnsembleFusion.MeanLogits"/>.</summary>
    public OnnxEnsembleFusion Fusion { get; set; } = OnnxEnsembleFusion.MeanLogits;

    /// <summary>Class names, stored in the metadata property "class_names" (JSON array); null stores none. Default null.</summary>
    public IReadOnlyList<string>? ClassNames { get; set; }

    /// <summary>Whether each member's logits are outputs too ("member_{k}_logits"). Default true.</summary>
    public bool MemberOutputs { get; set; } = true;
}

/// <summary>
/// K ONNX classifiers merged into one ONNX model that runs them all on one shared input and fuses their outputs:
/// each member's nodes, initializers and values are prefixed ("m{k}."), its image input becomes the shared "input",
/// and the graph outputs "logits" and "probabilities" of the ensemble (and, by default, each member's logits). A
/// member whose output is a softmax contributes the logarithm of it. One ONNX Runtime session then runs the whole
/// ensemble, in any runtime, without Mtkd.
/// </summary>
public static class OnnxEnsemble
{
    /// <summary>The merged model's bytes, checked by loading them in ONNX Runtime.</summary>
    /// <param name="members">The members' ONNX bytes: each one image input, a float [batch, C] output ("logits" when it has several), the same input shape, C and operator sets.</param>
    /// <param name="names">A name per member, for messages.</param>
    /// <param name="options">Fusion and outputs.</param>
    public static byte[] Merge(IReadOnlyList<byte[]> members, IReadOnlyList<string> names, OnnxEnsembleOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(names);
        if (members.Count == 0) throw new ArgumentException("An ensemble needs one or more members.", nameof(members));
        if (names.Count != members.Count) throw new ArgumentException($"{members.Count} members but {names.Count} names.", nameof(names));
        options ??= new OnnxEnsembleOptions();

        var graph = new GraphProto { Name = "ensemble" };
        var builder = new OnnxGraphBuilder(graph);
        var outputs = new List<string>();
        ValueInfoProto? input = null;
        Dictionary<string, long>? opsets = null;
        int classes = 0;
        for (int k = 0; k < members.Count; k++)
        {
            var model = Parse(members[k], names[k]);
            var memberOpsets = model.OpsetImport.ToDictionary(o => o.Domain, o => o.Version);
            if (opsets is null) opsets = memberOpsets;
            else if (!opsets.OrderBy(o => o.Key).SequenceEqual(memberOpsets.OrderBy(o => o.Key)))
                throw new InvalidDataException($"'{names[k]}' uses operator sets {Opsets(memberOpsets)}; '{names[0]}' uses {Opsets(opsets)}. Members of one ensemble " +
                    "must share their operator sets: export them with the same opset.");
            var (memberInput, output, count, probabilities) = Describe(model, names[k]);
            if (input is null)
            {
                input = memberInput.Clone();
                input.Name = "input";
                classes = count;
            }
            else if (!SameShape(input, memberInput))
                throw new InvalidDataException($"'{names[k]}' takes {Shape(memberInput)}; '{names[0]}' takes {Shape(input)}. Members must take the same images.");
            else if (count != classes)
                throw new InvalidDataException($"'{names[k]}' gives {count} classes; '{names[0]}' gives {classes}. Members must give the same classes.");
            string logits = AddMember(graph, model.Graph, $"m{k}.", memberInput.Name, output);
            if (probabilities)
            {
                builder.AddNode("Log", $"m{k}.log", [logits], $"m{k}.log_probabilities");
                logits = $"m{k}.log_probabilities";
            }
            outputs.Add(logits);
        }

        graph.Input.Add(input);
        if (options.Fusion == OnnxEnsembleFusion.MeanLogits)
        {
            builder.AddNode("Mean", "fusion.mean", outputs.ToArray(), "logits");
            builder.AddNode("Softmax", "fusion.softmax", ["logits"], "probabilities", OnnxGraphBuilder.Int("axis", 1));
        }
        else
        {
            for (int k = 0; k < outputs.Count; k++)
                builder.AddNode("Softmax", $"fusion.softmax.{k}", [outputs[k]], $"fusion.p{k}", OnnxGraphBuilder.Int("axis", 1));
            builder.AddNode("Mean", "fusion.mean", outputs.Select((_, k) => $"fusion.p{k}").ToArray(), "probabilities");
            builder.AddNode("Log", "fusion.log", ["probabilities"], "logits");
        }
        graph.Output.Add(OnnxExporter.TensorValue("logits", "batch", classes));
        graph.Output.Add(OnnxExporter.TensorValue("probabilities", "batch", classes));
        if (options.MemberOutputs)
            for (int k = 0; k < outputs.Count; k++)
            {
                builder.AddNode("Identity", $"member_{k}", [outputs[k]], $"member_{k}_logits");
                graph.Output.Add(OnnxExporter.TensorValue($"member_{k}_logits", "batch", classes));
            }

        var merged = new ModelProto
        {
            IrVersion = Parse(members[0], names[0]).IrVersion,
            ProducerName = "Mtkd",
            ProducerVersion = typeof(OnnxEnsemble).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
            Graph = graph,
            DocString = $"An ensemble of {members.Count} ({options.Fusion}), merged by Mtkd from: {string.Join(", ", names)}.",
        };
        foreach (var (domain, version) in opsets!)
            merged.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        merged.MetadataProps.Add(new StringStringEntryProto { Key = "ensemble_fusion", Value = options.Fusion.ToString() });
        if (options.ClassNames is { } classNames)
            merged.MetadataProps.Add(new StringStringEntryProto { Key = "class_names", Value = System.Text.Json.JsonSerializer.Serialize(classNames) });
        var bytes = merged.ToByteArray();
        // The members may use any operator, beyond the exporter's own that OnnxModelValidator knows: the check is that ONNX Runtime loads it.
        try
        {
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(bytes);
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            throw new InvalidDataException($"The ensemble of {string.Join(", ", names)} does not load in ONNX Runtime: {e.Message}", e);
        }
        return bytes;
    }

    /// <summary>Merges ONNX files into <paramref name="path"/> (written to a temporary file first, then renamed).</summary>
    public static void Merge(IReadOnlyList<string> memberPaths, string path, OnnxEnsembleOptions? options = null) =>
        AtomicFile.WriteAllBytes(path, Merge(memberPaths.Select(File.ReadAllBytes).ToArray(), memberPaths, options));

    private static ModelProto Parse(byte[] bytes, string name)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"'{name}' is not an ONNX model: {e.Message}", e);
        }
        if (model.Graph.Initializer.Any(t => t.DataLocation == TensorProto.Types.DataLocation.External))
            throw new InvalidDataException($"'{name}' keeps its weights in external files; merge a model that holds its weights itself.");
        if (model.Graph.Node.Any(n => n.Attribute.Any(a => a.Type == AttributeProto.Types.AttributeType.Graph || (int)a.Type == 10 /* GRAPHS */) || n.OpType is "If" or "Loop" or "Scan"))
            throw new InvalidDataException($"'{name}' has control flow (a node with a subgraph: If, Loop or Scan), which the merge does not rename; give a model without it.");
        return model;
    }

    // The member's image input, the output used and its class count, and whether that output is a softmax.
    private static (ValueInfoProto Input, string Output, int Classes, bool Probabilities) Describe(ModelProto model, string name)
    {
        var initializers = model.Graph.Initializer.Select(i => i.Name).ToHashSet();
        var inputs = model.Graph.Input.Where(i => !initializers.Contains(i.Name)).ToArray();
        if (inputs.Length != 1)
            throw new InvalidDataException($"'{name}' has {inputs.Length} inputs ({string.Join(", ", inputs.Select(i => i.Name))}); a member takes one image tensor.");
        var outputs = model.Graph.Output;
        var output = outputs.Count == 1 ? outputs[0] : outputs.FirstOrDefault(o => o.Name == "logits")
            ?? throw new InvalidDataException($"'{name}' has several outputs ({string.Join(", ", outputs.Select(o => o.Name))}) and none named 'logits'; a member gives one [batch, classes] output.");
        var dims = output.Type?.TensorType?.Shape?.Dim;
        if (output.Type?.TensorType?.ElemType != (int)TensorProto.Types.DataType.Float || dims is not { Count: 2 } || dims[1].DimValue <= 0)
            throw new InvalidDataException($"'{name}': output '{output.Name}' is not float [batch, classes] with a known class count.");
        var info = OnnxModelInfo.Read(model.ToByteArray(), name);
        return (inputs[0], output.Name, (int)dims[1].DimValue, info.IsProbabilityOutput(output.Name));
    }

    // Copies the member's nodes and initializers, every name prefixed and its input wired to the shared one; returns its output's new name.
    private static string AddMember(GraphProto graph, GraphProto member, string prefix, string inputName, string output)
    {
        string Rename(string value) => value.Length == 0 ? value : value == inputName ? "input" : prefix + value;
        foreach (var node in member.Node)
        {
            var copy = node.Clone();
            copy.Name = prefix + (node.Name.Length > 0 ? node.Name : $"node{graph.Node.Count}");
            copy.Input.Clear();
            copy.Input.AddRange(node.Input.Select(Rename));
            copy.Output.Clear();
            copy.Output.AddRange(node.Output.Select(Rename));
            graph.Node.Add(copy);
        }
        foreach (var initializer in member.Initializer)
        {
            var copy = initializer.Clone();
            copy.Name = prefix + initializer.Name;
            graph.Initializer.Add(copy);
        }
        foreach (var value in member.ValueInfo)
        {
            var copy = value.Clone();
            copy.Name = prefix + value.Name;
            graph.ValueInfo.Add(copy);
        }
        return Rename(output);
    }

    private static bool SameShape(ValueInfoProto a, ValueInfoProto b)
    {
        var da = a.Type?.TensorType?.Shape?.Dim;
        var db = b.Type?.TensorType?.Shape?.Dim;
        return da is not null && db is not null && da.Count == db.Count && a.Type!.TensorType.ElemType == b.Type!.TensorType.ElemType
            && da.Skip(1).Zip(db.Skip(1)).All(p => p.First.DimValue == p.Second.DimValue && p.First.DimValue > 0);
    }

    private static string Shape(ValueInfoProto value) =>
        "[" + string.Join(", ", value.Type?.TensorType?.Shape?.Dim.Select(d => d.DimValue > 0 ? d.DimValue.ToString() : d.DimParam is { Length: > 0 } p ? p : "?") ?? []) + "]";

    private static string Opsets(Dictionary<string, long> opsets) =>
        string.Join(", ", opsets.OrderBy(o => o.Key).Select(o => $"{(o.Key.Length == 0 ? "ai.onnx" : o.Key)} {o.Value}"));
}
