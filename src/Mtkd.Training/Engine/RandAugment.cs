using static TorchSharp.torch;

namespace Mtkd.Training.Engine;

/// <summary>
/// RandAugment (Cubuk et al. 2020) on a batch [B, C, H, W] of pixels in [0, 1], vectorised: each image draws
/// <c>ops</c> operations (with replacement) from torchvision's list less the colour-only ones, at one shared
/// magnitude on torchvision's 0–30 scale, each geometric one with a random sign. The geometric draws of an image
/// compose into one affine warp (one grid_sample for the batch), then its photometric draws apply in a fixed
/// order; torchvision applies them in the drawn order instead, which only matters when one image draws both kinds.
/// Randomness comes from the caller's System.Random, so resumed runs draw the same views.
/// </summary>
internal static class RandAugment
{
    /// <summary>The operations, with torchvision's ranges at magnitude 30 (its 31 bins).</summary>
    internal enum Op { Identity, ShearX, ShearY, TranslateX, TranslateY, Rotate, Brightness, Contrast, Posterize, Solarize, AutoContrast }

    internal const int MaxMagnitude = 30;
    private static readonly Op[] Ops = Enum.GetValues<Op>();

    public static Tensor Apply(Tensor x, int ops, int magnitude, Random random) => Apply(x, Draw((int)x.shape[0], ops, random), magnitude);

    /// <summary>Each image's operations and their signs (−1 or +1), drawn in a fixed order so seeded runs repeat.</summary>
    internal static (Op Op, int Sign)[][] Draw(int images, int ops, Random random) =>
        Enumerable.Range(0, images).Select(_ => Enumerable.Range(0, ops)
            .Select(_ => (Ops[random.Next(Ops.Length)], random.Next(2) == 0 ? -1 : 1)).ToArray()).ToArray();

    internal static Tensor Apply(Tensor x, (Op Op, int Sign)[][] draws, int magnitude)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0];
        double m = (double)magnitude / MaxMagnitude;
        var theta = new float[n * 6];
        var photometric = new Dictionary<Op, (bool[] On, float[] Sign)>();
        foreach (var op in new[] { Op.Brightness, Op.Contrast, Op.Posterize, Op.Solarize, Op.AutoContrast })
            photometric[op] = (new bool[n], new float[n]);
        for (int i = 0; i < n; i++)
        {
            // Affine in affine_grid's normalised coordinates: output (x, y) samples input theta·(x, y, 1).
            double a = 1, b = 0, c = 0, d = 0, e = 1, f = 0;
            foreach (var (op, s) in draws[i])
            {
                double sign = s;
                double g0 = 1, g1 = 0, g2 = 0, g3 = 0, g4 = 1, g5 = 0;
                switch (op)
                {
                    case Op.ShearX: g1 = sign * 0.3 * m; break;
                    case Op.ShearY: g3 = sign * 0.3 * m; break;
                    // torchvision translates by up to 150/331 of the side; the normalised side spans 2.
                    case Op.TranslateX: g2 = sign * 2 * 150.0 / 331 * m; break;
                    case Op.TranslateY: g5 = sign * 2 * 150.0 / 331 * m; break;
                    case Op.Rotate:
                        double angle = sign * 30 * m * Math.PI / 180;
                        g0 = Math.Cos(angle); g1 = -Math.Sin(angle); g3 = Math.Sin(angle); g4 = Math.Cos(angle);
                        break;
                    case Op.Identity: break;
                    default:
                        var (on, signs) = photometric[op];
                        on[i] = true;
                        signs[i] = (float)sign;
                        break;
                }
                // Compose: the new warp applies to the coordinates the previous ones produce.
                (a, b, c, d, e, f) = (a * g0 + b * g3, a * g1 + b * g4, a * g2 + b * g5 + c, d * g0 + e * g3, d * g1 + e * g4, d * g2 + e * g5 + f);
            }
            theta[i * 6 + 0] = (float)a; theta[i * 6 + 1] = (float)b; theta[i * 6 + 2] = (float)c;
            theta[i * 6 + 3] = (float)d; theta[i * 6 + 4] = (float)e; theta[i * 6 + 5] = (float)f;
        }

        var grid = nn.functional.affine_grid(tensor(theta, [n, 2, 3], device: x.device), x.shape, align_corners: false);
        var y = nn.functional.grid_sample(x, grid, GridSampleMode.Nearest, GridSamplePaddingMode.Zeros, align_corners: false);

        y = Where(y, photometric[Op.Brightness], (img, s) => (img * (1 + s * (float)(0.9 * m))).clamp(0, 1));
        y = Where(y, photometric[Op.Contrast], (img, s) =>
        {
            var mean = img.mean([1, 2, 3], keepdim: true);
            return (mean + (img - mean) * (1 + s * (float)(0.9 * m))).clamp(0, 1);
        });
        // Posterize keeps 8 − 4m bits (torchvision rounds the same way); Solarize inverts pixels above 1 − m.
        int bits = (int)Math.Round(8 - 4 * m);
        float levels = (float)Math.Pow(2, bits);
        y = Where(y, photometric[Op.Posterize], (img, _) => (img * 255 / (256 / levels)).floor() * (256 / levels) / 255);
        float threshold = (float)(1 - m);
        y = Where(y, photometric[Op.Solarize], (img, _) => where(img >= threshold, 1 - img, img));
        y = Where(y, photometric[Op.AutoContrast], (img, _) =>
        {
            var lo = img.amin([1, 2, 3], keepdim: true);
            var hi = img.amax([1, 2, 3], keepdim: true);
            var span = hi - lo;
            return where(span > 1e-6, (img - lo) / span.clamp_min(1e-6), img);
        });
        return y.MoveToOuterDisposeScope();
    }

    // Applies the op to the whole batch and keeps it where an image drew it (cheaper than gathering at these sizes).
    private static Tensor Where(Tensor x, (bool[] On, float[] Sign) draw, Func<Tensor, Tensor, Tensor> op)
    {
        if (!draw.On.Any(v => v)) return x;
        long n = x.shape[0];
        var mask = tensor(draw.On, device: x.device).view(n, 1, 1, 1);
        var sign = tensor(draw.Sign, device: x.device).view(n, 1, 1, 1);
        return where(mask, op(x, sign), x);
    }
}
