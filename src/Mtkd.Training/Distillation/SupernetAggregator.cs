using static TorchSharp.torch;

namespace Mtkd.Training.Distillation;

/// <summary>
/// The supernet modes' teacher: a linear layer over each image's concatenated teacher outputs (logits for
/// supernet, penultimate features for supernet2), standardised per input, trained on the training labels with
/// cross-entropy and then frozen. Its logits become a single teacher for the student.
/// </summary>
internal static class SupernetAggregator
{
    /// <summary>The frozen aggregator: logits = W·((x − mean) / std) + b, for export or reuse.</summary>
    public sealed record Model(float[] Mean, float[] Std, float[] Weight, float[] Bias, int InputWidth, int ClassCount);

    /// <summary>Trains the aggregator and returns its logits for every image [N × C] and its training accuracy.</summary>
    /// <param name="inputs">[N × D] per-image inputs, row-major.</param>
    /// <param name="labels">N class indices.</param>
    /// <param name="classCount">C.</param>
    /// <param name="seed">Seed of the initial weights and batch order.</param>
    /// <param name="epochs">Passes over the data. Default 20.</param>
    public static (float[] Logits, double Accuracy) FitAndApply(float[] inputs, IReadOnlyList<int> labels, int classCount, int seed, int epochs = 20)
    {
        var (logits, accuracy, _) = Fit(inputs, labels, classCount, seed, epochs);
        return (logits, accuracy);
    }

    /// <summary>As <see cref="FitAndApply"/>, also returning the aggregator itself (see <c>OnnxExporter.ExportAggregator</c>).</summary>
    public static (float[] Logits, double Accuracy, Model Aggregator) Fit(float[] inputs, IReadOnlyList<int> labels, int classCount, int seed, int epochs = 20)
    {
        int n = labels.Count;
        if (n == 0 || inputs.Length % n != 0)
            throw new ArgumentException($"{inputs.Length} aggregator inputs do not split into {n} images.", nameof(inputs));
        int width = inputs.Length / n;
        TorchRuntime.EnsureLoaded();
        random.manual_seed(seed);
        using var x = tensor(inputs, [n, width]);
        using var mean = x.mean([0], keepdim: true);
        using var std = x.std(0, keepdim: true).clamp_min(1e-6);
        using var standardized = (x - mean) / std;
        using var y = tensor(labels.Select(l => (long)l).ToArray(), [n]);
        using var layer = nn.Linear(width, classCount);
        using var optimizer = optim.Adam(layer.parameters(), 1e-2);
        var order = Enumerable.Range(0, n).Select(i => (long)i).ToArray();
        var shuffler = new Random(seed);
        const int batchSize = 256;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            shuffler.Shuffle(order);
            for (int start = 0; start < n; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var indices = tensor(order.AsSpan(start, Math.Min(batchSize, n - start)).ToArray());
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(layer.forward(standardized.index_select(0, indices)), y.index_select(0, indices));
                loss.backward();
                optimizer.step();
            }
        }
        using var noGrad = no_grad();
        using var logits = layer.forward(standardized);
        using var correct = logits.argmax(1).eq(y).sum();
        var model = new Model(mean.data<float>().ToArray(), std.data<float>().ToArray(), layer.weight!.detach().data<float>().ToArray(),
            layer.bias!.detach().data<float>().ToArray(), width, classCount);
        return (logits.data<float>().ToArray(), correct.item<long>() / (double)n, model);
    }
}
