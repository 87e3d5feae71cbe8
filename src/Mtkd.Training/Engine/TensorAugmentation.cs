using static TorchSharp.torch;

namespace Mtkd.Training.Engine;

/// <summary>
/// Applies <see cref="AugmentationOptions"/> to a batch [B, C, H, W]. Randomness comes from a System.Random the
/// caller seeds per epoch, so a resumed run draws the same augmentations as an uninterrupted one.
/// </summary>
internal static class TensorAugmentation
{
    public static Tensor Apply(Tensor batch, AugmentationOptions options, Random random)
    {
        if (!options.Any) return batch;
        using var scope = NewDisposeScope();
        long n = batch.shape[0], h = batch.shape[2], w = batch.shape[3];
        var x = batch;
        if (options.ShiftPixels > 0)
        {
            int p = options.ShiftPixels;
            var padded = nn.functional.pad(x, [p, p, p, p]);
            var shifted = new Tensor[n];
            for (int i = 0; i < n; i++)
            {
                int dy = random.Next(2 * p + 1), dx = random.Next(2 * p + 1);
                shifted[i] = padded[i].narrow(1, dy, h).narrow(2, dx, w);
            }
            x = stack(shifted);
        }
        if (options.HorizontalFlip)
        {
            var flip = Enumerable.Range(0, (int)n).Select(_ => random.Next(2) == 1).ToArray();
            var mask = tensor(flip, device: x.device).view(n, 1, 1, 1);
            x = where(mask, x.flip(3), x);
        }
        if (options.RotationDegrees > 0)
        {
            var theta = new float[n * 6];
            for (int i = 0; i < n; i++)
            {
                double angle = (random.NextDouble() * 2 - 1) * options.RotationDegrees * Math.PI / 180;
                float c = (float)Math.Cos(angle), s = (float)Math.Sin(angle);
                theta[i * 6 + 0] = c; theta[i * 6 + 1] = -s; theta[i * 6 + 3] = s; theta[i * 6 + 4] = c;
            }
            var grid = nn.functional.affine_grid(tensor(theta, [n, 2, 3], device: x.device), x.shape, align_corners: false);
            x = nn.functional.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false);
        }
        if (options.RandAugmentOps > 0)
            x = RandAugment.Apply(x, options.RandAugmentOps, options.RandAugmentMagnitude, random);
        return x.MoveToOuterDisposeScope();
    }
}
