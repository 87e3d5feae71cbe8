using Google.Protobuf;
using Mtkd.Training.Fusion;
using Mtkd.Training.Onnx.Proto;

namespace Mtkd.Training.Onnx;

/// <summary>Options of <see cref="OnnxEnsemble"/>.Merge.</summary>
public sealed class OnnxEnsembleOptions
{
    /// <summary>
    /// How the members are fused, as <see cref="EnsembleFusion"/> does it: <see cref="FusionMethod.MeanProbability"/>,
    /// <see cref="FusionMethod.MeanLogit"/>, <see cref="FusionMethod.Product"/>, <see cref="FusionMethod.MaxConfidence"/>
    /// or <see cref="FusionMethod.WeightedAverage"/>. Ranked votes are refused: their tie-breaks and tallies are not
    /// written in ONNX operators here. Default <see cref="FusionMethod.MeanProbability"/>.
    /// </summary>
    public FusionMethod Fusion { get; set; } = FusionMethod.MeanProbability;

    /// <summary>For <see cref="FusionMethod.WeightedAverage"/>: one non-negative weight per member (see <see cref="TeacherWeights"/>). Default null.</summary>
    public IReadOnlyList<double>? Weights { get; set; }

    /// <summary>Class names, stored in the metadata property "class_names" (JSON array); null stores none. Default null.</summary>
    public IReadOnlyList<string>? ClassNames { get; set; }

    /// <summary>Whether each member's logits are outputs too ("member_{k}_logits"). Default true.</summary>
    public bool MemberOutputs { get; set; } = true;
}

/// <summary>
/// K ONNX classifiers merged into one ONNX model that runs them all on one shared input and fuses their outputs:
/// each member's nodes, initializers and values are prefixed ("m{k}."), its image input becomes the shared "input",
/// and the graph outputs "probabilities" of the ensemble (as <see cref="EnsembleFusion"/> fuses them), "logits" (their
/// logarithm, or the mean logits for <see cref="FusionMethod.MeanLogit"/>: logits of the same distribution) and, by
/// default, each member's logits. A member whose output is a softmax contributes the logarithm of it. One ONNX
/// Runtime session then runs the whole ensemble, in any runtime, without Mtkd.
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
        if (EnsembleFusion.IsRankedVote(options.Fusion) || !Enum.IsDefined(options.Fusion))
            throw new ArgumentException($"{options.Fusion} is a ranked vote, which is not written as one ONNX model (its tallies and tie-breaks are not ONNX " +
                "operators here); save the ensemble with MeanProbability, MeanLogit, Product, MaxConfidence or WeightedAverage.", nameof(options));
        if (options.Fusion == FusionMethod.WeightedAverage)
            _ = new EnsembleFusion(FusionMethod.WeightedAverage, members.Count, 1, options.Weights); // the weights' own checks and messages

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
        AddFusion(builder, options, outputs, opsets!.GetValueOrDefault("", 0));
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

    // The fusion nodes, from each member's logits to "probabilities" and "logits", as EnsembleFusion computes them.
    private static void AddFusion(OnnxGraphBuilder builder, OnnxEnsembleOptions options, List<string> logits, long opset)
    {
        var axis = OnnxGraphBuilder.Int("axis", 1);
        string[] Each(string op, string name) => logits.Select((z, k) =>
        {
            builder.AddNode(op, $"fusion.{name}.{k}", [z], $"fusion.{name}{k}", axis);
            return $"fusion.{name}{k}";
        }).ToArray();
        switch (options.Fusion)
        {
            case FusionMethod.MeanLogit:
                builder.AddNode("Mean", "fusion.mean", logits.ToArray(), "logits");
                builder.AddNode("Softmax", "fusion.softmax", ["logits"], "probabilities", axis);
                return;
            case FusionMethod.Product: // the normalised geometric mean: softmax of the mean log-probability
                builder.AddNode("Mean", "fusion.mean", Each("LogSoftmax", "logp"), "logits");
                builder.AddNode("Softmax", "fusion.softmax", ["logits"], "probabilities", axis);
                return;
            case FusionMethod.MeanProbability:
                builder.AddNode("Mean", "fusion.mean", Each("Softmax", "p"), "probabilities");
                break;
            case FusionMethod.WeightedAverage:
            {
                var p = Each("Softmax", "p");
                double total = options.Weights!.Sum();
                var weighted = p.Select((pk, k) =>
                {
                    builder.AddNode("Mul", $"fusion.weight.{k}", [pk, builder.Scalar($"fusion.w{k}", (float)(options.Weights![k] / total))], $"fusion.wp{k}");
                    return $"fusion.wp{k}";
                }).ToArray();
                builder.AddNode("Sum", "fusion.sum", weighted, "probabilities");
                break;
            }
            case FusionMethod.MaxConfidence:
            {
                // Each member's top probability; a later member replaces the best so far only when strictly more confident (the lower index wins a tie).
                var p = Each("Softmax", "p");
                var top = p.Select((pk, k) =>
                {
                    var keep = OnnxGraphBuilder.Int("keepdims", 1);
                    if (opset >= 18)
                        builder.AddNode("ReduceMax", $"fusion.top.{k}", [pk, AxesInitializer(builder)], $"fusion.top{k}", keep);
                    else
                        builder.AddNode("ReduceMax", $"fusion.top.{k}", [pk], $"fusion.top{k}", OnnxGraphBuilder.Ints("axes", 1), keep);
                    return $"fusion.top{k}";
                }).ToArray();
                string best = p[0], confidence = top[0];
                for (int k = 1; k < p.Length; k++)
                {
                    builder.AddNode("Greater", $"fusion.better.{k}", [top[k], confidence], $"fusion.better{k}");
                    string nextBest = k == p.Length - 1 ? "probabilities" : $"fusion.best{k}";
                    builder.AddNode("Where", $"fusion.best.{k}", [$"fusion.better{k}", p[k], best], nextBest);
                    builder.AddNode("Where", $"fusion.confidence.{k}", [$"fusion.better{k}", top[k], confidence], $"fusion.confidence{k}");
                    (best, confidence) = (nextBest, $"fusion.confidence{k}");
                }
                if (p.Length == 1) builder.AddNode("Identity", "fusion.only", [p[0]], "probabilities");
                break;
            }
        }
        builder.AddNode("Log", "fusion.log", ["probabilities"], "logits");
    }

    private static string AxesInitializer(OnnxGraphBuilder builder)
    {
        const string name = "fusion.axes";
        if (builder.Graph.Initializer.All(i => i.Name != name))
        {
            var axes = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
            axes.Dims.Add(1);
            axes.Int64Data.Add(1);
            builder.Graph.Initializer.Add(axes);
        }
        return name;
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
