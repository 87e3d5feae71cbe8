using Mtkd.Training.Distillation;
using static TorchSharp.torch;

namespace Mtkd.Training.Engine;

/// <summary>
/// Mixup and CutMix of a batch [B, C, H, W], one λ and one permutation per batch, drawn from a System.Random the
/// caller seeds per epoch (so a resumed run mixes as an uninterrupted one).
/// </summary>
internal static class BatchMixing
{
    /// <summary>The mixed batch and how it was mixed; the batch itself and null when mixing is off.</summary>
    public static (Tensor Images, BatchMix? Mix) Apply(Tensor batch, AugmentationOptions options, Random random)
    {
        if (!options.Mixes || batch.shape[0] < 2) return (batch, null);
        bool cutMix = options.CutMix > 0 && (options.Mixup == 0 || random.Next(2) == 1);
        double lambda = Beta(random, cutMix ? options.CutMix : options.Mixup);
        long n = batch.shape[0];
        var order = Enumerable.Range(0, (int)n).Select(i => (long)i).ToArray();
        random.Shuffle(order);
        var permutation = tensor(order, [n], device: batch.device);
        return cutMix ? CutMix(batch, permutation, lambda, random) : Mixup(batch, permutation, lambda);
    }

    /// <summary>λ·x + (1 − λ)·x[perm]; the mix holds the caller's permutation.</summary>
    public static (Tensor Images, BatchMix Mix) Mixup(Tensor batch, Tensor permutation, double lambda)
    {
        using var scope = NewDisposeScope();
        var mixed = batch * lambda + batch.index_select(0, permutation) * (1 - lambda);
        return (mixed.MoveToOuterDisposeScope(), new BatchMix(permutation, lambda));
    }

    /// <summary>x with a box of about (1 − λ) of its area from x[perm], centred at a random point and clipped to the image; λ becomes the kept share.</summary>
    public static (Tensor Images, BatchMix Mix) CutMix(Tensor batch, Tensor permutation, double lambda, Random random)
    {
        long h = batch.shape[2], w = batch.shape[3];
        double side = Math.Sqrt(1 - lambda);
        long cy = random.NextInt64(h), cx = random.NextInt64(w);
        long boxH = (long)(h * side), boxW = (long)(w * side);
        long top = Math.Clamp(cy - boxH / 2, 0, h), bottom = Math.Clamp(cy + boxH / 2, 0, h);
        long left = Math.Clamp(cx - boxW / 2, 0, w), right = Math.Clamp(cx + boxW / 2, 0, w);
        return CutMix(batch, permutation, top, bottom, left, right);
    }

    /// <summary>x with rows [top, bottom) and columns [left, right) taken from x[perm].</summary>
    public static (Tensor Images, BatchMix Mix) CutMix(Tensor batch, Tensor permutation, long top, long bottom, long left, long right)
    {
        using var scope = NewDisposeScope();
        long h = batch.shape[2], w = batch.shape[3];
        var mask = zeros([1, 1, h, w], dtype: ScalarType.Bool, device: batch.device);
        if (bottom > top && right > left)
            mask[TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(top, bottom), TensorIndex.Slice(left, right)] = tensor(true);
        var mixed = where(mask, batch.index_select(0, permutation), batch);
        double kept = 1 - (double)(bottom - top) * (right - left) / (h * w);
        return (mixed.MoveToOuterDisposeScope(), new BatchMix(permutation, kept));
    }

    /// <summary>A draw from Beta(a, a) as X/(X + Y) with X, Y ~ Gamma(a).</summary>
    public static double Beta(Random random, double a)
    {
        double x = Gamma(random, a), y = Gamma(random, a);
        return x + y > 0 ? x / (x + y) : 0.5;
    }

    // Marsaglia and Tsang (2000); shapes below 1 through Gamma(a + 1)·U^(1/a).
    private static double Gamma(Random random, double shape)
    {
        if (shape < 1)
            return Gamma(random, shape + 1) * Math.Pow(1 - random.NextDouble(), 1 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double z, v;
            do
            {
                z = Normal(random);
                v = 1 + c * z;
            } while (v <= 0);
            v = v * v * v;
            double u = 1 - random.NextDouble();
            if (Math.Log(u) < 0.5 * z * z + d - d * v + d * Math.Log(v)) return d * v;
        }
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
