using System.Runtime.InteropServices;
using Google.Protobuf;
using Mtkd.Training.Data;
using Mtkd.Training.Onnx.Proto;

namespace Mtkd.Training.Onnx;

/// <summary>
/// Post-training static int8 quantization of an exported float model, in ONNX's QDQ form (what ONNX Runtime's own
/// quantizer writes): each convolution and Gemm reads its weights through DequantizeLinear from per-channel symmetric
/// int8 (bias int32 at the input scale × the weight scale), and the activations between them pass through
/// QuantizeLinear/DequantizeLinear pairs, per-tensor uint8, with ranges calibrated on images. ONNX Runtime fuses each
/// DQ → op → Q group into its int8 kernel (QLinearConv, QGemm, QLinearAdd, QLinearGlobalAveragePool; MaxPool and
/// Flatten run on the uint8 values). A Relu after a convolution, Gemm or Add is dropped: its output range starts at 0,
/// so the uint8 zero point is 0 and quantizing clips negatives exactly as the Relu did. The logits stay float.
/// Batch norms after a convolution or Gemm are folded into its weights first (<see cref="BatchNormFolding"/>), so a
/// model exported either way quantizes the same.
/// </summary>
public static class OnnxQuantizer
{
    /// <summary>Ops that read and write int8 once their inputs and outputs are quantized.</summary>
    private static readonly HashSet<string> Int8Ops = ["Conv", "Gemm", "Add", "GlobalAveragePool", "MaxPool", "Flatten"];

    /// <summary>Ops that only move or select values: their output keeps the input's scale (ONNX Runtime needs the two equal to run them on uint8).</summary>
    private static readonly HashSet<string> PassThrough = ["MaxPool", "Flatten"];

    /// <summary>
    /// The int8 model of <paramref name="floatModel"/> (an ONNX model of opset 13 or newer), calibrated on images of
    /// <paramref name="calibration"/> (pixels as the model reads them). Checked by the structural validator.
    /// </summary>
    public static byte[] Quantize(byte[] floatModel, ImageDataset calibration, QuantizationOptions? options = null, string name = "the model")
    {
        ArgumentNullException.ThrowIfNull(floatModel);
        ArgumentNullException.ThrowIfNull(calibration);
        options ??= new QuantizationOptions();
        options.Check();
        if (calibration.Count == 0)
            throw new ArgumentException($"The calibration set for {name} is empty: int8 ranges are read from images (a few hundred training images).", nameof(calibration));
        OnnxModelValidator.Validate(floatModel, name);
        var model = ModelProto.Parser.ParseFrom(floatModel);
        long opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).Max();
        if (opset < 13)
            throw new ArgumentException($"{name} imports opset {opset}; per-channel int8 weights need opset 13 or newer (export with Opset = 13).", nameof(floatModel));
        if (model.Graph.Node.Any(n => n.OpType is "QuantizeLinear" or "DequantizeLinear"))
            throw new ArgumentException($"{name} is already quantized (it has QuantizeLinear/DequantizeLinear nodes); quantize the float model.", nameof(floatModel));

        BatchNormFolding.Fold(model.Graph);
        var plan = Plan.Of(model.Graph, options.FloatFirstConvolution);
        if (plan.WeightNodes.Count == 0)
            throw new ArgumentException($"{name} has no convolution or Gemm with stored weights: nothing to quantize.", nameof(floatModel));
        var ranges = ActivationCalibration.Ranges(model, plan.Calibrated, calibration, options, name);
        var quantized = Rewrite(model, plan, ranges);
        var bytes = quantized.ToByteArray();
        OnnxModelValidator.Validate(bytes, $"The int8 model of {name}");
        return bytes;
    }

    /// <summary>
    /// The float model with each batch norm after a convolution or Gemm folded into its weights (what <see cref="Quantize"/>
    /// does first): the fair float32 counterpart of the int8 model, for sizes and speeds.
    /// </summary>
    public static byte[] FoldBatchNorm(byte[] floatModel)
    {
        var model = ModelProto.Parser.ParseFrom(floatModel);
        BatchNormFolding.Fold(model.Graph);
        return model.ToByteArray();
    }

    /// <summary>Whether a model holds QuantizeLinear nodes: an int8 model (as this class writes) rather than a float one.</summary>
    public static bool IsQuantized(byte[] model) => IsQuantized(ModelProto.Parser.ParseFrom(model).Graph);

    internal static bool IsQuantized(GraphProto graph) => graph.Node.Any(n => n.OpType == "QuantizeLinear");

    /// <summary>What gets quantized: decided on the float graph before calibration.</summary>
    private sealed class Plan
    {
        /// <summary>The convolutions and Gemms with an initializer as weight: the int8 ops.</summary>
        public HashSet<NodeProto> WeightNodes { get; } = new(ReferenceEqualityComparer.Instance);

        /// <summary>Relu nodes dropped, each into the node before it, which writes the Relu's output instead.</summary>
        public Dictionary<NodeProto, NodeProto> FusedRelus { get; } = new(ReferenceEqualityComparer.Instance);

        /// <summary>Activations stored as uint8 between nodes (names as in the float graph; a fused Relu's output stands for its input).</summary>
        public HashSet<string> Quantized { get; } = [];

        /// <summary>Activations that take their scale from another (a pass-through op's output from its input).</summary>
        public Dictionary<string, string> SameScaleAs { get; } = [];

        public IReadOnlyCollection<string> Calibrated => Quantized.Where(v => !SameScaleAs.ContainsKey(v)).ToArray();

        public static Plan Of(GraphProto graph, bool floatFirstConvolution)
        {
            var plan = new Plan();
            var initializers = graph.Initializer.ToDictionary(i => i.Name);
            var outputs = graph.Output.Select(o => o.Name).ToHashSet();
            var consumers = new Dictionary<string, List<NodeProto>>();
            foreach (var node in graph.Node)
                foreach (var input in node.Input)
                    (consumers.TryGetValue(input, out var list) ? list : consumers[input] = []).Add(node);
            List<NodeProto> ConsumersOf(string value) => consumers.TryGetValue(value, out var list) ? list : [];

            foreach (var node in graph.Node)
                if (node.OpType is "Conv" or "Gemm" && node.Input.Count >= 2 && initializers.TryGetValue(node.Input[1], out var w)
                    && w.DataType == (int)TensorProto.Types.DataType.Float && PlainGemm(node)
                    && (node.Input.Count < 3 || initializers.ContainsKey(node.Input[2]))
                    // Weights and bias become integers: only where nothing else reads them as floats.
                    && node.Input.Skip(1).All(p => ConsumersOf(p).All(c => c.OpType is "Conv" or "Gemm" && c.Input.Skip(1).Contains(p))))
                    plan.WeightNodes.Add(node);
            // The first convolution, reading the image itself, can stay float: see QuantizationOptions.FloatFirstConvolution.
            if (floatFirstConvolution && graph.Node.FirstOrDefault(plan.WeightNodes.Contains) is { OpType: "Conv" } first
                && graph.Input.Any(i => i.Name == first.Input[0]))
                plan.WeightNodes.Remove(first);

            bool IsInt8(NodeProto node) => plan.WeightNodes.Contains(node) || (node.OpType != "Conv" && node.OpType != "Gemm" && Int8Ops.Contains(node.OpType));
            // A Relu whose only input comes from a quantized op that feeds nothing else folds into that op's output range.
            var producers = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
            foreach (var relu in graph.Node.Where(n => n.OpType == "Relu"))
                if (producers.TryGetValue(relu.Input[0], out var producer) && IsInt8(producer) && producer.OpType is "Conv" or "Gemm" or "Add"
                    && ConsumersOf(relu.Input[0]).Count == 1 && !outputs.Contains(relu.Input[0]) && !outputs.Contains(relu.Output[0]))
                    plan.FusedRelus[relu] = producer;

            string OutputAfterFusion(NodeProto node) =>
                ConsumersOf(node.Output[0]) is [var only] && plan.FusedRelus.ContainsKey(only) ? only.Output[0] : node.Output[0];
            foreach (var node in graph.Node.Where(IsInt8))
            {
                // The activation inputs (not weights, not biases).
                int activations = node.OpType is "Conv" or "Gemm" ? 1 : node.Input.Count;
                foreach (var input in node.Input.Take(activations))
                    if (!initializers.ContainsKey(input)) plan.Quantized.Add(input);
                string output = OutputAfterFusion(node);
                // The output too, where everything that reads it runs in int8 (the logits and what leads to them stay float).
                var readers = ConsumersOf(output);
                bool feedsInt8 = readers.Count > 0 && readers.All(IsInt8) && !outputs.Contains(output);
                if (PassThrough.Contains(node.OpType) || feedsInt8)
                    plan.Quantized.Add(output);
                if (PassThrough.Contains(node.OpType))
                    plan.SameScaleAs[output] = node.Input[0];
            }
            // A Relu folds away only where its output is stored as uint8 (whose zero point then clips); elsewhere it stays.
            foreach (var relu in plan.FusedRelus.Keys.Where(r => !plan.Quantized.Contains(r.Output[0])).ToArray())
                plan.FusedRelus.Remove(relu);
            return plan;
        }

        private static bool PlainGemm(NodeProto node) =>
            node.OpType != "Gemm" || node.Attribute.All(a => a.Name switch { "transA" => a.I == 0, "alpha" or "beta" => a.F == 1f, _ => true });
    }

    private sealed record Uint8Range(float Scale, byte ZeroPoint);

    // uint8 asymmetric over [min, max] widened to hold 0, so that 0 (padding, a Relu's floor) is exact.
    private static Uint8Range RangeOf((float Min, float Max) range)
    {
        double min = Math.Min(0, range.Min), max = Math.Max(0, range.Max);
        if (!(max > min)) return new Uint8Range(1f, 0);
        double scale = (max - min) / 255;
        return new Uint8Range((float)scale, (byte)Math.Clamp(Math.Round(-min / scale), 0, 255));
    }

    private static ModelProto Rewrite(ModelProto source, Plan plan, Dictionary<string, (float Min, float Max)> ranges)
    {
        var model = source.Clone();
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        var names = new CompactNames(graph);
        var nodes = new List<NodeProto>();

        // Each stored activation: its uint8 range (a pass-through op's output shares its input's), then Q and DQ nodes.
        var stored = new Dictionary<string, (string Scale, string ZeroPoint, float ScaleValue, string Dequantized)>();
        (string Scale, string ZeroPoint, float ScaleValue) RangeFor(string value)
        {
            if (stored.TryGetValue(value, out var s)) return (s.Scale, s.ZeroPoint, s.ScaleValue);
            if (plan.SameScaleAs.TryGetValue(value, out var from)) return RangeFor(from);
            var r = RangeOf(ranges[value]);
            string scale = AddInitializer(graph, names.Next("s"), TensorProto.Types.DataType.Float, [], MemoryMarshal.AsBytes<float>([r.Scale]));
            // The zero point is written even where it is 0 (QuantizeLinear's default): ONNX Runtime fuses a Gemm into QGemm,
            // and runs MaxPool and Flatten on uint8, only where it is given.
            string zero = AddInitializer(graph, names.Next("z"), TensorProto.Types.DataType.Uint8, [], [r.ZeroPoint]);
            return (scale, zero, r.Scale);
        }
        void QuantizeValue(string value)
        {
            var (scale, zero, scaleValue) = RangeFor(value);
            string q = names.Next("q"), dq = names.Next("d");
            nodes.Add(Node("QuantizeLinear", [value, scale, zero], q));
            nodes.Add(Node("DequantizeLinear", [q, scale, zero], dq));
            stored[value] = (scale, zero, scaleValue, dq);
        }
        string Dequantized(string value) => stored.TryGetValue(value, out var s) ? s.Dequantized : value;

        foreach (var input in graph.Input)
            if (plan.Quantized.Contains(input.Name)) QuantizeValue(input.Name);

        var fusedInto = new Dictionary<NodeProto, NodeProto>(ReferenceEqualityComparer.Instance);
        foreach (var (relu, producer) in plan.FusedRelus) fusedInto[producer] = relu;
        var weightScales = new Dictionary<string, float[]>();
        var weightValues = new Dictionary<string, string>(); // a weight two nodes share is quantized once
        for (int i = 0; i < source.Graph.Node.Count; i++)
        {
            var original = source.Graph.Node[i]; // the plan holds the source's nodes; the clone's are other objects
            if (plan.FusedRelus.ContainsKey(original)) continue;
            var node = graph.Node[i].Clone();
            if (fusedInto.TryGetValue(original, out var fused))
                node.Output[0] = fused.Output[0];
            bool weighted = plan.WeightNodes.Contains(original);
            for (int k = 0; k < node.Input.Count; k++)
            {
                if (weighted && k == 1) node.Input[k] = weightValues.TryGetValue(node.Input[k], out var shared) ? shared
                    : weightValues[node.Input[k]] = QuantizeWeight(initializers[node.Input[k]], WeightAxis(node), node.OpType == "Gemm", weightScales, names, nodes, graph);
                else if (weighted && k == 2) node.Input[k] = QuantizeBias(initializers[node.Input[k]], RangeFor(original.Input[0]).ScaleValue,
                    weightScales[original.Input[1]], names, nodes, graph);
                else node.Input[k] = Dequantized(node.Input[k]);
            }
            nodes.Add(node);
            foreach (var output in node.Output)
                if (plan.Quantized.Contains(output)) QuantizeValue(output);
        }

        // A graph output that is also stored as uint8 keeps its float value: nodes read the DQ value, the output the float one.
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        Compact(graph, names);
        model.MetadataProps.Add(new StringStringEntryProto { Key = QuantizationMetadataKey, Value = "int8" });
        return model;
    }

    /// <summary>Metadata key of an int8 model this class wrote; its value is "int8".</summary>
    internal const string QuantizationMetadataKey = "mtkd.quantization";

    // What ONNX assumes when a convolution's attribute is absent: unit strides and dilations, one group, the kernel's shape from the weights.
    private static bool IsDefault(AttributeProto a) => a.Name switch
    {
        "strides" or "dilations" => a.Ints.All(v => v == 1),
        "group" => a.I == 1,
        "kernel_shape" => true,
        _ => false,
    };

    // A small student's int8 file is a quarter of its float weights plus names: node names and default convolution
    // attributes go (ONNX allows both) and inner values and weights get short names; the graph's inputs and outputs keep theirs.
    private static void Compact(GraphProto graph, CompactNames names)
    {
        var keep = graph.Input.Select(i => i.Name).Concat(graph.Output.Select(o => o.Name)).ToHashSet();
        var renamed = new Dictionary<string, string>();
        foreach (var initializer in graph.Initializer.Where(i => !keep.Contains(i.Name) && i.Name.Length > 3))
            initializer.Name = renamed[initializer.Name] = names.Next("i");
        foreach (var node in graph.Node)
        {
            node.Name = "";
            if (node.OpType is "Conv" or "QuantizeLinear" or "DequantizeLinear")
                foreach (var attribute in node.Attribute.Where(IsDefault).ToArray())
                    node.Attribute.Remove(attribute);
            for (int k = 0; k < node.Input.Count; k++)
                if (renamed.TryGetValue(node.Input[k], out var n)) node.Input[k] = n;
            for (int k = 0; k < node.Output.Count; k++)
                if (!keep.Contains(node.Output[k])) node.Output[k] = renamed[node.Output[k]] = names.Next("v");
        }
    }

    /// <summary>
    /// Short names for what quantization adds (s3, z3, q4, d4…; nodes unnamed, as ONNX allows), so that the int8 file
    /// of a small student is not mostly names: a Q/DQ pair costs about 100 bytes.
    /// </summary>
    private sealed class CompactNames(GraphProto graph)
    {
        private readonly HashSet<string> used = graph.Initializer.Select(i => i.Name).Concat(graph.Input.Select(i => i.Name))
            .Concat(graph.Node.SelectMany(n => n.Output)).ToHashSet();
        private int next;

        public string Next(string prefix)
        {
            string name;
            do name = $"{prefix}{next++}"; while (!used.Add(name));
            return name;
        }
    }

    // Conv weights [O, I, k, k] and Gemm's B with transB = 1 ([N, K]) are scaled per output row; B [K, N] per column.
    private static int WeightAxis(NodeProto node) =>
        node.OpType == "Gemm" && !node.Attribute.Any(a => a.Name == "transB" && a.I == 1) ? 1 : 0;

    // The int8 weights replace the float ones; a DequantizeLinear with per-channel scales feeds the op (zero points are 0,
    // the default, written out only for a Gemm: ONNX Runtime fuses a Gemm into QGemm only where they are given).
    private static string QuantizeWeight(TensorProto weight, int axis, bool gemm, Dictionary<string, float[]> weightScales, CompactNames names, List<NodeProto> nodes, GraphProto graph)
    {
        var values = OnnxGraphBuilder.FloatValues(weight);
        var dims = weight.Dims.ToArray();
        int channels = (int)dims[axis];
        long inner = dims.Skip(axis + 1).Aggregate(1L, (a, b) => a * b);
        var scales = new float[channels];
        foreach (var (index, channel) in Channels(values.Length, channels, inner))
            scales[channel] = Math.Max(scales[channel], Math.Abs(values[index]));
        for (int c = 0; c < channels; c++) scales[c] = scales[c] > 0 ? scales[c] / 127 : 1f;
        var q = new sbyte[values.Length];
        foreach (var (index, channel) in Channels(values.Length, channels, inner))
            q[index] = (sbyte)Math.Clamp(Math.Round(values[index] / scales[channel]), -127, 127);
        weight.DataType = (int)TensorProto.Types.DataType.Int8;
        weight.FloatData.Clear();
        weight.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(q.AsSpan()));
        weightScales[weight.Name] = scales;
        string scale = AddInitializer(graph, names.Next("s"), TensorProto.Types.DataType.Float, [channels], MemoryMarshal.AsBytes(scales.AsSpan()));
        string dq = names.Next("w");
        string[] inputs = gemm ? [weight.Name, scale, AddInitializer(graph, names.Next("z"), TensorProto.Types.DataType.Int8, [channels], new byte[channels])] : [weight.Name, scale];
        nodes.Add(Node("DequantizeLinear", inputs, dq, OnnxGraphBuilder.Int("axis", axis)));
        return dq;
    }

    // Bias as int32 at scale = input scale × the weight's channel scale, so the int8 kernel adds it to its int32 sums as is.
    private static string QuantizeBias(TensorProto bias, float inputScale, float[] weightScales, CompactNames names, List<NodeProto> nodes, GraphProto graph)
    {
        var values = OnnxGraphBuilder.FloatValues(bias);
        if (weightScales.Length != values.Length)
            throw new InvalidDataException($"Bias '{bias.Name}' has {values.Length} values for {weightScales.Length} output channels.");
        var scales = weightScales.Select(s => inputScale * s).ToArray();
        var q = values.Select((b, c) => (int)Math.Clamp(Math.Round(b / scales[c]), int.MinValue, int.MaxValue)).ToArray();
        bias.DataType = (int)TensorProto.Types.DataType.Int32;
        bias.FloatData.Clear();
        bias.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(q.AsSpan()));
        string scale = AddInitializer(graph, names.Next("s"), TensorProto.Types.DataType.Float, [values.Length], MemoryMarshal.AsBytes(scales.AsSpan()));
        string dq = names.Next("b");
        nodes.Add(Node("DequantizeLinear", [bias.Name, scale], dq, OnnxGraphBuilder.Int("axis", 0)));
        return dq;
    }

    private static IEnumerable<(int Index, int Channel)> Channels(int count, int channels, long inner)
    {
        for (int i = 0; i < count; i++) yield return (i, (int)(i / inner % channels));
    }

    private static string AddInitializer(GraphProto graph, string name, TensorProto.Types.DataType type, long[] dims, ReadOnlySpan<byte> raw)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        tensor.Dims.AddRange(dims);
        graph.Initializer.Add(tensor);
        return name;
    }

    private static NodeProto Node(string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        return node;
    }
}
