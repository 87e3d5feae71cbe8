using Mtkd.Training.Onnx.Proto;

namespace Mtkd.Training.Onnx;

/// <summary>
/// Folds each BatchNormalization that reads a convolution's (or a Gemm's, transB = 1) output, and nothing else reads,
/// into that node's weights, in an ONNX graph: W' = W·s per output channel, b' = (b − μ)·s + β, s = γ/√(σ² + ε). The
/// graph-level twin of <see cref="OnnxExportOptions.FoldBatchNorm"/>, for models that were exported unfolded.
/// </summary>
internal static class BatchNormFolding
{
    public static int Fold(GraphProto graph)
    {
        var initializers = graph.Initializer.ToDictionary(i => i.Name);
        var producers = graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        var readers = graph.Node.SelectMany(n => n.Input).GroupBy(i => i).ToDictionary(g => g.Key, g => g.Count());
        var outputs = graph.Output.Select(o => o.Name).ToHashSet();
        int folded = 0;
        foreach (var bn in graph.Node.Where(n => n.OpType == "BatchNormalization").ToArray())
        {
            if (bn.Output.Count != 1 || !producers.TryGetValue(bn.Input[0], out var op) || op.OpType is not ("Conv" or "Gemm")
                || readers[bn.Input[0]] != 1 || outputs.Contains(bn.Input[0])
                || (op.OpType == "Gemm" && !op.Attribute.Any(a => a.Name == "transB" && a.I == 1))
                || !initializers.TryGetValue(op.Input[1], out var weight) || bn.Input.Skip(1).Any(i => !initializers.ContainsKey(i))
                || (op.Input.Count > 2 && !initializers.ContainsKey(op.Input[2])))
                continue;
            float epsilon = bn.Attribute.FirstOrDefault(a => a.Name == "epsilon")?.F ?? 1e-5f;
            var (gamma, beta, mean, variance) = (Values(initializers[bn.Input[1]]), Values(initializers[bn.Input[2]]), Values(initializers[bn.Input[3]]), Values(initializers[bn.Input[4]]));
            var w = Values(weight);
            int channels = gamma.Length;
            int inner = w.Length / channels;
            var scale = gamma.Select((g, c) => g / MathF.Sqrt(variance[c] + epsilon)).ToArray();
            for (int i = 0; i < w.Length; i++) w[i] *= scale[i / inner];
            var b = op.Input.Count > 2 ? Values(initializers[op.Input[2]]) : new float[channels];
            for (int c = 0; c < channels; c++) b[c] = (b[c] - mean[c]) * scale[c] + beta[c];

            // New initializers (the old ones may be shared); the op now writes the batch norm's output.
            string weightName = $"{op.Input[1]}.folded", biasName = $"{(op.Input.Count > 2 ? op.Input[2] : op.Input[1] + ".bias")}.folded";
            var builder = new OnnxGraphBuilder(graph);
            builder.Initializer(weightName, w, weight.Dims.ToArray());
            builder.Initializer(biasName, b, channels);
            op.Input[1] = weightName;
            if (op.Input.Count > 2) op.Input[2] = biasName; else op.Input.Add(biasName);
            op.Output[0] = bn.Output[0];
            graph.Node.Remove(bn);
            folded++;
        }
        // Initializers nothing reads any more go.
        var used = graph.Node.SelectMany(n => n.Input).ToHashSet();
        foreach (var unused in graph.Initializer.Where(i => !used.Contains(i.Name)).ToArray())
            graph.Initializer.Remove(unused);
        return folded;
    }

    private static float[] Values(TensorProto tensor) => OnnxGraphBuilder.FloatValues(tensor);
}
