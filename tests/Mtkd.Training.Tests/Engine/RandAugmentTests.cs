using Mtkd.Training;
using Mtkd.Training.Engine;
using static TorchSharp.torch;
using Op = Mtkd.Training.Engine.RandAugment.Op;

namespace Mtkd.Training.Tests.Engine;

/// <summary>RandAugment's operations against hand-worked pixels, and its draws seeded and bounded.</summary>
public sealed class RandAugmentTests
{
    public RandAugmentTests() => TorchRuntime.EnsureLoaded();

    private static float[] Run(float[] pixels, long[] shape, Op op, int sign, int magnitude)
    {
        using var x = tensor(pixels, shape);
        var draws = Enumerable.Range(0, (int)shape[0]).Select(_ => new[] { (op, sign) }).ToArray();
        using var y = RandAugment.Apply(x, draws, magnitude);
        return y.data<float>().ToArray();
    }

    // One 1×2×2 image.
    private static readonly float[] Pixels = [0.2f, 0.4f, 0.6f, 1.0f];
    private static readonly long[] Shape = [1, 1, 2, 2];

    [Fact]
    public void Photometric_operations_match_torchvision_s_ranges()
    {
        // Magnitude 10 of 30: brightness/contrast factor 1 ± 0.3, solarize above 2/3, posterize to 8 − 4/3 → 7 bits.
        Assert.Equal(new[] { 0.26f, 0.52f, 0.78f, 1.0f }, Run(Pixels, Shape, Op.Brightness, +1, 10), new FloatTolerance(1e-5f));
        Assert.Equal(new[] { 0.14f, 0.28f, 0.42f, 0.7f }, Run(Pixels, Shape, Op.Brightness, -1, 10), new FloatTolerance(1e-5f));
        // Mean 0.55: 0.55 + 1.3·(x − 0.55), clamped to [0, 1].
        Assert.Equal(new[] { 0.095f, 0.355f, 0.615f, 1.0f }, Run(Pixels, Shape, Op.Contrast, +1, 10), new FloatTolerance(1e-5f));
        Assert.Equal(new[] { 0.2f, 0.4f, 0.6f, 0.0f }, Run(Pixels, Shape, Op.Solarize, +1, 10), new FloatTolerance(1e-5f));
        // 7 bits: floor(255·x / 2)·2 / 255; 0.2 → 51 → 50, 0.6 → 153 → 152.
        Assert.Equal(new[] { 50 / 255f, 102 / 255f, 152 / 255f, 254 / 255f }, Run(Pixels, Shape, Op.Posterize, +1, 10), new FloatTolerance(1e-5f));
        // Autocontrast stretches [0.2, 1] to [0, 1].
        Assert.Equal(new[] { 0f, 0.25f, 0.5f, 1f }, Run(Pixels, Shape, Op.AutoContrast, +1, 10), new FloatTolerance(1e-5f));
        Assert.Equal(Pixels, Run(Pixels, Shape, Op.Identity, +1, 30));
    }

    [Fact]
    public void Geometric_operations_are_the_identity_at_magnitude_zero_and_move_pixels_above_it()
    {
        var image = new float[8 * 8];
        image[3 * 8 + 2] = 1; // one bright pixel at row 3, column 2
        long[] shape = [1, 1, 8, 8];
        foreach (var op in new[] { Op.ShearX, Op.ShearY, Op.TranslateX, Op.TranslateY, Op.Rotate })
            Assert.Equal(image, Run(image, shape, op, +1, 0));

        // Translate by 150/331 of the side at magnitude 30: 3.6 of 8 pixels, so the pixel lands 3–4 columns right on its row.
        var moved = Run(image, shape, Op.TranslateX, -1, 30);
        int at = Array.IndexOf(moved, 1f);
        Assert.True(at >= 0, "the pixel left the image");
        Assert.Equal(3, at / 8);
        Assert.InRange(at % 8 - 2, 3, 4);
        Assert.Equal(1f, moved.Sum());
    }

    [Fact]
    public void Draws_repeat_with_the_seed_and_stay_in_range()
    {
        using var batch = rand([64, 1, 12, 12], generator: new TorchSharp.torch.Generator(7));
        var options = new AugmentationOptions { RandAugmentOps = 2, RandAugmentMagnitude = 15 };
        using var a = TensorAugmentation.Apply(batch, options, new Random(3));
        using var b = TensorAugmentation.Apply(batch, options, new Random(3));
        using var c = TensorAugmentation.Apply(batch, options, new Random(4));
        Assert.True(a.equal(b).all().item<bool>());
        Assert.False(a.equal(c).all().item<bool>());
        Assert.Equal(batch.shape, a.shape);
        Assert.True(a.min().item<float>() >= 0 && a.max().item<float>() <= 1);
        // Most images change (1/11 of draws are the identity, so both draws are for about 1 in 120 images).
        using var changed = (a - batch).abs().amax([1, 2, 3]) > 1e-6;
        Assert.True(changed.sum().item<long>() > 50);
    }

    [Theory]
    [InlineData(-1, 9)]
    [InlineData(11, 9)]
    [InlineData(2, 31)]
    [InlineData(2, -1)]
    public void Out_of_range_settings_are_refused_by_name(int ops, int magnitude)
    {
        var options = new AugmentationOptions { RandAugmentOps = ops, RandAugmentMagnitude = magnitude };
        var error = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.StartsWith("RandAugment", error.ParamName);
    }

    [Fact]
    public void Rotation_NaN_is_refused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(new AugmentationOptions { RotationDegrees = double.NaN }.Validate);
        Assert.Equal(nameof(AugmentationOptions.RotationDegrees), error.ParamName);
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(float obj) => 0;
    }
}
