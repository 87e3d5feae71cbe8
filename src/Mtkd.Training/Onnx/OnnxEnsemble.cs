using Google.Protobuf;
using Mtkd.Training.Fusion;
using Mtkd.Training.Onnx.Proto;
using Mtkd.Training.Teachers;

namespace Mtkd.Training.Onnx;

/// <summary>Options of <see cref="OnnxEnsemble"/>: the fusion, and the names of the model's input and outputs.</summary>
public sealed class OnnxEnsembleOptions
{
    /// <summary>
    /// How the teachers are fused, as <see cref="EnsembleFusion"/> does it: <see cref="FusionMethod.MeanProbability"/>,
    /// <see cref="FusionMethod.MeanLogit"/>, <see cref="FusionMethod.Product"/>, <see cref="FusionMethod.MaxConfidence"/>
    /// or <see cref="FusionMethod.WeightedAverage"/>; null for none (the model gives the teachers' logits only). Ranked
    /// votes are refused: their tallies and tie-breaks are not written in ONNX operators here. Default
    /// <see cref="FusionMethod.MeanProbability"/>.
    /// </summary>
    public FusionMethod? Fusion { get; set; } = FusionMethod.MeanProbability;

    /// <summary>For <see cref="FusionMethod.WeightedAverage"/>: one non-negative weight per teacher (see <see cref="TeacherWeights"/>). Default null.</summary>
    public IReadOnlyList<double>? Weights { get; set; }

    /// <summary>Class names, stored in the metadata property "class_names" (JSON array); null stores none. Default null.</summary>
    public IReadOnlyList<string>? ClassNames { get; set; }

    /// <summary>The input: float [batch, C, H, W] images (channels first, whatever each teacher takes), or [batch, F] for teachers of flat inputs. Default "input".</summary>
    public string InputName { get; set; } = "input";

    /// <summary>The fused logits, [batch, C]: the mean logits for <see cref="FusionMethod.MeanLogit"/> and <see cref="FusionMethod.Product"/>, else the logarithm of the fused probabilities. Default "logits".</summary>
    public string LogitsName { get; set; } = "logits";

    /// <summary>The fused probabilities, [batch, C]. Default "probabilities".</summary>
    public string ProbabilitiesName { get; set; } = "probabilities";

    /// <summary>
    /// Every teacher's logits concatenated teacher by teacher, [batch, K·C] (ScoreTeachers' layout; specialists as one
    /// unified teacher after the others); null leaves it out. Default "teacher_logits".
    /// </summary>
    public string? TeacherLogitsName { get; set; } = "teacher_logits";
}

/// <summary>
/// Teachers merged into one ONNX model that runs them all on one input and fuses them, as <see cref="OnnxTeachers"/>
/// and <see cref="EnsembleFusion"/> do: each teacher's nodes, initializers and values are prefixed ("m{k}."); a
/// channels-last teacher gets the images transposed and a teacher of flat inputs reshaped; a softmax output is taken as
/// log-probabilities; specialists (<see cref="SpecialistClasses"/>) become one unified teacher after the others. One
/// ONNX Runtime session then runs the whole ensemble, in any runtime, without Mtkd; the file is accepted as a single
/// teacher wherever teachers are.
/// </summary>
public static class OnnxEnsemble
{
    // The floor a probability is raised to before its logarithm, as OnnxTeacher does.
    private const float MinimumProbability = 1e-30f;

    /// <summary>The merged model's bytes, checked by loading them in ONNX Runtime.</summary>
    /// <param name="teachers">The teachers (with their layout and output overrides), sharing their operator sets (export them with one opset).</param>
    /// <param name="options">Fusion and names.</param>
    public static byte[] Merge(IReadOnlyList<TeacherModel> teachers, OnnxEnsembleOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(teachers);
        using var loaded = OnnxTeachers.Load(teachers, new TeacherSessionSettings(null, null, false, null, true), merge: false); // the checks, not a merged session
        return Merge(teachers, loaded, options ?? new OnnxEnsembleOptions());
    }

    /// <summary>The merge of <paramref name="teachers"/> as <paramref name="loaded"/> (the same models, loaded and checked) describes them.</summary>
    internal static byte[] Merge(IReadOnlyList<TeacherModel> teachers, OnnxTeachers loaded, OnnxEnsembleOptions options)
    {
        CheckFusion(options, loaded.TeacherCount);
        var descriptions = loaded.Descriptions;
        var first = descriptions[0];
        long[] shared = first.InputLayout switch
        {
            ImageLayout.Nchw => [.. first.ImageShape],
            ImageLayout.Nhwc => [first.ImageShape[2], first.ImageShape[0], first.ImageShape[1]],
            _ => [.. first.ImageShape],
        };

        var graph = new GraphProto { Name = "ensemble" };
        var builder = new OnnxGraphBuilder(graph);
        var floor = builder.Scalar("ensemble.floor", MinimumProbability);
        Dictionary<string, long>? opsets = null;
        long irVersion = 7;
        var generalists = new List<string>();
        var specialists = new List<(string Logits, SpecialistClasses Classes)>();
        for (int k = 0; k < teachers.Count; k++)
        {
            var d = descriptions[k];
            var model = Parse(teachers[k].ReadBytes(), d.Name);
            var memberOpsets = model.OpsetImport.ToDictionary(o => o.Domain, o => o.Version);
            if (opsets is null) opsets = memberOpsets;
            else if (!opsets.OrderBy(o => o.Key).SequenceEqual(memberOpsets.OrderBy(o => o.Key)))
                throw new InvalidDataException($"Teacher '{d.Name}' uses operator sets {Opsets(memberOpsets)}; '{first.Name}' uses {Opsets(opsets)}. Teachers merged " +
                    "into one model must share their operator sets: export them with the same opset.");
            irVersion = Math.Max(irVersion, model.IrVersion);
            if (d.FixedBatchSize is { } batch)
                throw new InvalidDataException($"Teacher '{d.Name}' takes batches of exactly {batch} images; a merged model takes any batch size. Export it with a dynamic batch dimension.");
            string input = InputFor(builder, d, shared, options.InputName, $"m{k}.");
            string output = AddMember(graph, model.Graph, $"m{k}.", d.InputName, input, d.OutputName);
            if (d.SingleOutput)
                output = TwoClasses(builder, output, d.OutputKind == TeacherOutputKind.Probabilities, floor, $"m{k}.");
            else if (d.OutputKind == TeacherOutputKind.Probabilities)
                output = LogOf(builder, output, floor, $"m{k}.log");
            if (d.Specialist is { } classes) specialists.Add((output, classes));
            else generalists.Add(output);
        }
        if (specialists.Count > 0)
            generalists.Add(Unified(builder, specialists, floor));

        graph.Input.Add(OnnxExporter.TensorValue(options.InputName, "batch", shared.Select(v => (int)v).ToArray()));
        AddOutputs(builder, options, generalists, loaded.ClassCount, opsets!.GetValueOrDefault("", 13));
        return Finish(graph, opsets!, irVersion, options, $"An ensemble of {teachers.Count} teachers ({options.Fusion?.ToString() ?? "no fusion"}), merged by Mtkd from: " +
            string.Join(", ", descriptions.Select(t => t.Name)) + ".", $"The ensemble of {string.Join(", ", descriptions.Select(t => t.Name))}");
    }

    /// <summary>Merges <paramref name="teachers"/> into <paramref name="path"/> (written to a temporary file first, then renamed).</summary>
    public static void Merge(IReadOnlyList<TeacherModel> teachers, string path, OnnxEnsembleOptions? options = null) =>
        AtomicFile.WriteAllBytes(path, Merge(teachers, options));

    /// <summary>
    /// The fusion alone: input <see cref="OnnxEnsembleOptions.TeacherLogitsName"/>, [batch, K·C] teacher logits in
    /// ScoreTeachers' layout; outputs the fused logits and probabilities.
    /// </summary>
    public static byte[] Fusion(int teacherCount, int classCount, OnnxEnsembleOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (teacherCount < 1 || classCount < 1) throw new ArgumentOutOfRangeException(nameof(teacherCount), "Need one or more teachers and classes.");
        if (options.Fusion is null) throw new ArgumentException("The fusion alone needs a Fusion method.", nameof(options));
        string input = options.TeacherLogitsName ?? throw new ArgumentException("The fusion alone reads TeacherLogitsName; give it a name.", nameof(options));
        CheckFusion(options, teacherCount);
        var graph = new GraphProto { Name = "fusion" };
        var builder = new OnnxGraphBuilder(graph);
        graph.Input.Add(OnnxExporter.TensorValue(input, "batch", teacherCount * classCount));
        builder.Graph.Initializer.Add(Int64s("fusion.shape", -1, teacherCount, classCount));
        builder.AddNode("Reshape", "fusion.reshape", [input, "fusion.shape"], "fusion.teachers");
        var logits = Enumerable.Range(0, teacherCount).Select(k =>
        {
            builder.Graph.Initializer.Add(Int64Scalar($"fusion.index{k}", k));
            builder.AddNode("Gather", $"fusion.gather.{k}", ["fusion.teachers", $"fusion.index{k}"], $"fusion.z{k}", OnnxGraphBuilder.Int("axis", 1));
            return $"fusion.z{k}";
        }).ToList();
        AddOutputs(builder, options, logits, classCount, 13, withoutTeacherLogits: true);
        return Finish(graph, new Dictionary<string, long> { [""] = 13 }, 7, options, $"The {options.Fusion} of {teacherCount} teachers' logits, by Mtkd.",
            $"The {options.Fusion} fusion");
    }

    /// <summary>
    /// Refuses a fusion ONNX operators do not express here: the ranked votes, whose tallies and tie-breaks are not
    /// written in the graph. <see cref="ArgumentException"/> naming the method and those that can be written.
    /// </summary>
    public static void CheckWritable(FusionMethod method)
    {
        if (EnsembleFusion.IsRankedVote(method) || !Enum.IsDefined(method))
            throw new ArgumentException($"{method} is a ranked vote, which is not written as one ONNX model (its tallies and tie-breaks are not ONNX " +
                "operators here); save the ensemble with MeanProbability, MeanLogit, Product, MaxConfidence or WeightedAverage."); // the message names the method
    }

    private static void CheckFusion(OnnxEnsembleOptions options, int teacherCount)
    {
        if (options.Fusion is not { } method) return;
        CheckWritable(method);
        if (method == FusionMethod.WeightedAverage)
            _ = new EnsembleFusion(method, teacherCount, 1, options.Weights); // the weights' own checks and messages
    }

    // The value a teacher reads: the shared images as they are, transposed to channels-last, or reshaped to what it takes.
    private static string InputFor(OnnxGraphBuilder builder, TeacherDescription d, long[] shared, string input, string prefix)
    {
        long[] wanted = [.. d.ImageShape];
        if (d.InputLayout == ImageLayout.Nhwc && shared.Length == 3)
        {
            builder.AddNode("Transpose", prefix + "to_channels_last", [input], prefix + "channels_last", OnnxGraphBuilder.Ints("perm", 0, 2, 3, 1));
            return prefix + "channels_last";
        }
        if (wanted.SequenceEqual(shared)) return input;
        if (wanted.Aggregate(1L, (a, b) => a * b) != shared.Aggregate(1L, (a, b) => a * b))
            throw new InvalidDataException($"Teacher '{d.Name}' takes {string.Join("×", wanted)} values per image; the first teacher's images are {string.Join("×", shared)}.");
        builder.Graph.Initializer.Add(Int64s(prefix + "input_shape", [-1, .. wanted]));
        builder.AddNode("Reshape", prefix + "reshape_input", [input, prefix + "input_shape"], prefix + "reshaped");
        return prefix + "reshaped";
    }

    // Specialists' unified teacher, as SpecialistEnsemble computes it: Σ_s softmax(z_s)·M_s, with M_s[j, c] = 1 / (specialists covering c)
    // where specialist s's output j is class c (its "other" row all zero), then the logarithm.
    private static string Unified(OnnxGraphBuilder builder, List<(string Logits, SpecialistClasses Classes)> specialists, string floor)
    {
        int classes = specialists[0].Classes.ClassCount;
        var covering = new int[classes];
        foreach (var (_, g) in specialists)
            foreach (int c in g.Classes) covering[c]++;
        var terms = specialists.Select((s, i) =>
        {
            var g = s.Classes;
            var matrix = new float[g.OutputCount * classes];
            for (int j = 0; j < g.Classes.Count; j++) matrix[j * classes + g.Classes[j]] = 1f / covering[g.Classes[j]];
            builder.AddNode("Softmax", $"specialists.softmax.{i}", [s.Logits], $"specialists.p{i}", OnnxGraphBuilder.Int("axis", 1));
            builder.Initializer($"specialists.map{i}", matrix, g.OutputCount, classes);
            builder.AddNode("MatMul", $"specialists.map.{i}", [$"specialists.p{i}", $"specialists.map{i}"], $"specialists.share{i}");
            return $"specialists.share{i}";
        }).ToArray();
        builder.AddNode("Sum", "specialists.sum", terms, "specialists.mean");
        return LogOf(builder, "specialists.mean", floor, "specialists.log");
    }

    // A binary classifier's one score as two classes' logits [0, z], as OnnxTeacher scores it: z the logit, or the log-odds of a sigmoid probability.
    private static string TwoClasses(OnnxGraphBuilder builder, string score, bool probability, string floor, string prefix)
    {
        string z = score;
        if (probability)
        {
            builder.AddNode("Sub", prefix + "complement", [builder.Scalar(prefix + "one", 1f), score], prefix + "q");
            builder.AddNode("Sub", prefix + "log_odds", [LogOf(builder, score, floor, prefix + "log_p"), LogOf(builder, prefix + "q", floor, prefix + "log_q")], prefix + "z");
            z = prefix + "z";
        }
        builder.AddNode("Sub", prefix + "zero", [z, z], prefix + "zeros");
        builder.AddNode("Concat", prefix + "two_classes", [prefix + "zeros", z], prefix + "two_class_logits", OnnxGraphBuilder.Int("axis", 1));
        return prefix + "two_class_logits";
    }

    private static string LogOf(OnnxGraphBuilder builder, string probabilities, string floor, string name)
    {
        builder.AddNode("Max", name + ".floor", [probabilities, floor], name + ".floored");
        builder.AddNode("Log", name, [name + ".floored"], name + ".output");
        return name + ".output";
    }

    // The teacher logits output (concatenated) and the fusion's two outputs.
    private static void AddOutputs(OnnxGraphBuilder builder, OnnxEnsembleOptions options, List<string> logits, int classes, long opset, bool withoutTeacherLogits = false)
    {
        var graph = builder.Graph;
        if (!withoutTeacherLogits && options.TeacherLogitsName is { } all)
        {
            builder.AddNode("Concat", "ensemble.teacher_logits", logits.ToArray(), all, OnnxGraphBuilder.Int("axis", 1));
            graph.Output.Add(OnnxExporter.TensorValue(all, "batch", logits.Count * classes));
        }
        if (options.Fusion is not { } method) return;
        AddFusion(builder, method, options.Weights, logits, opset, options.LogitsName, options.ProbabilitiesName);
        graph.Output.Add(OnnxExporter.TensorValue(options.LogitsName, "batch", classes));
        graph.Output.Add(OnnxExporter.TensorValue(options.ProbabilitiesName, "batch", classes));
    }

    // The fusion nodes, from each teacher's logits to the probabilities and logits, as EnsembleFusion computes them.
    private static void AddFusion(OnnxGraphBuilder builder, FusionMethod method, IReadOnlyList<double>? weights, List<string> logits, long opset,
        string logitsName, string probabilitiesName)
    {
        var axis = OnnxGraphBuilder.Int("axis", 1);
        string[] Each(string op, string name) => logits.Select((z, k) =>
        {
            builder.AddNode(op, $"fusion.{name}.{k}", [z], $"fusion.{name}{k}", axis);
            return $"fusion.{name}{k}";
        }).ToArray();
        switch (method)
        {
            case FusionMethod.MeanLogit:
                builder.AddNode("Mean", "fusion.mean", logits.ToArray(), logitsName);
                builder.AddNode("Softmax", "fusion.softmax", [logitsName], probabilitiesName, axis);
                return;
            case FusionMethod.Product: // the normalised geometric mean: softmax of the mean log-probability
                builder.AddNode("Mean", "fusion.mean", Each("LogSoftmax", "logp"), logitsName);
                builder.AddNode("Softmax", "fusion.softmax", [logitsName], probabilitiesName, axis);
                return;
            case FusionMethod.MeanProbability:
                builder.AddNode("Mean", "fusion.mean", Each("Softmax", "p"), probabilitiesName);
                break;
            case FusionMethod.WeightedAverage:
            {
                var p = Each("Softmax", "p");
                double total = weights!.Sum();
                var weighted = p.Select((pk, k) =>
                {
                    builder.AddNode("Mul", $"fusion.weight.{k}", [pk, builder.Scalar($"fusion.w{k}", (float)(weights![k] / total))], $"fusion.wp{k}");
                    return $"fusion.wp{k}";
                }).ToArray();
                builder.AddNode("Sum", "fusion.sum", weighted, probabilitiesName);
                break;
            }
            case FusionMethod.MaxConfidence:
            {
                // Each teacher's top probability; a later teacher replaces the best so far only when strictly more confident (the lower index wins a tie).
                var p = Each("Softmax", "p");
                var top = p.Select((pk, k) =>
                {
                    var keep = OnnxGraphBuilder.Int("keepdims", 1);
                    if (opset >= 18)
                    {
                        if (builder.Graph.Initializer.All(i => i.Name != "fusion.axes")) builder.Graph.Initializer.Add(Int64s("fusion.axes", 1));
                        builder.AddNode("ReduceMax", $"fusion.top.{k}", [pk, "fusion.axes"], $"fusion.top{k}", keep);
                    }
                    else builder.AddNode("ReduceMax", $"fusion.top.{k}", [pk], $"fusion.top{k}", OnnxGraphBuilder.Ints("axes", 1), keep);
                    return $"fusion.top{k}";
                }).ToArray();
                string best = p[0], confidence = top[0];
                for (int k = 1; k < p.Length; k++)
                {
                    builder.AddNode("Greater", $"fusion.better.{k}", [top[k], confidence], $"fusion.better{k}");
                    string nextBest = k == p.Length - 1 ? probabilitiesName : $"fusion.best{k}";
                    builder.AddNode("Where", $"fusion.best.{k}", [$"fusion.better{k}", p[k], best], nextBest);
                    if (k < p.Length - 1)
                        builder.AddNode("Where", $"fusion.confidence.{k}", [$"fusion.better{k}", top[k], confidence], $"fusion.confidence{k}");
                    (best, confidence) = (nextBest, $"fusion.confidence{k}");
                }
                if (p.Length == 1) builder.AddNode("Identity", "fusion.only", [p[0]], probabilitiesName);
                break;
            }
        }
        builder.AddNode("Log", "fusion.log", [probabilitiesName], logitsName);
    }

    private static byte[] Finish(GraphProto graph, Dictionary<string, long> opsets, long irVersion, OnnxEnsembleOptions options, string doc, string what)
    {
        var model = new ModelProto
        {
            IrVersion = irVersion,
            ProducerName = "Mtkd",
            ProducerVersion = typeof(OnnxEnsemble).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
            Graph = graph,
            DocString = doc,
        };
        foreach (var (domain, version) in opsets)
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        if (options.Fusion is { } method)
            model.MetadataProps.Add(new StringStringEntryProto { Key = "ensemble_fusion", Value = method.ToString() });
        if (options.ClassNames is { } classNames)
            model.MetadataProps.Add(new StringStringEntryProto { Key = "class_names", Value = System.Text.Json.JsonSerializer.Serialize(classNames) });
        var bytes = model.ToByteArray();
        // The teachers may use any operator, beyond the exporter's own that OnnxModelValidator knows: the check is that ONNX Runtime loads it.
        try
        {
            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(bytes);
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{what} does not load in ONNX Runtime: {e.Message}", e);
        }
        return bytes;
    }

    private static ModelProto Parse(byte[] bytes, string name)
    {
        var model = ModelProto.Parser.ParseFrom(bytes); // OnnxTeachers.Load has read it already
        if (model.Graph.Initializer.Any(t => t.DataLocation == TensorProto.Types.DataLocation.External))
            throw new InvalidDataException($"Teacher '{name}' keeps its weights in external files; merge a model that holds its weights itself.");
        if (model.Graph.Node.Any(n => n.Attribute.Any(a => a.Type == AttributeProto.Types.AttributeType.Graph || (int)a.Type == 10 /* GRAPHS */)
                || n.OpType is "If" or "Loop" or "Scan"))
            throw new InvalidDataException($"Teacher '{name}' has control flow (a node with a subgraph: If, Loop or Scan), which the merge does not rename; give a model without it.");
        return model;
    }

    // Copies the member's nodes, initializers and value infos, every name prefixed and its input wired to `input`; returns its output's new name.
    private static string AddMember(GraphProto graph, GraphProto member, string prefix, string inputName, string input, string output)
    {
        string Rename(string value) => value.Length == 0 ? value : value == inputName ? input : prefix + value;
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

    private static TensorProto Int64s(string name, params long[] values)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        return tensor;
    }

    private static TensorProto Int64Scalar(string name, long value)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Int64Data.Add(value);
        return tensor;
    }

    private static string Opsets(Dictionary<string, long> opsets) =>
        string.Join(", ", opsets.OrderBy(o => o.Key).Select(o => $"{(o.Key.Length == 0 ? "ai.onnx" : o.Key)} {o.Value}"));
}
