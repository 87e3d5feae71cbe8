using Mtkd.Training;
using Mtkd.Training.Distillation;
using Mtkd.Training.Engine;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Engine;

/// <summary>Mixup and CutMix against hand-worked tensors: images and labels mixed with the same λ.</summary>
public sealed class BatchMixingTests
{
    public BatchMixingTests() => TorchRuntime.EnsureLoaded();

    // Two 1×2×2 images: all ones and all threes; batch order swapped by the permutation.
    private static Tensor TwoImages() => tensor(new float[] { 1, 1, 1, 1, 3, 3, 3, 3 }, [2, 1, 2, 2]);

    [Fact]
    public void Mixup_blends_images_and_labels_with_one_lambda()
    {
        using var batch = TwoImages();
        using var permutation = tensor(new long[] { 1, 0 }, [2]);
        var (mixed, mix) = BatchMixing.Mixup(batch, permutation, 0.25);
        // 0.25·1 + 0.75·3 = 2.5 and 0.25·3 + 0.75·1 = 1.5
        Assert.Equal(new float[] { 2.5f, 2.5f, 2.5f, 2.5f, 1.5f, 1.5f, 1.5f, 1.5f }, mixed.data<float>().ToArray());

        using var labels = tensor(new long[] { 0, 2 }, [2]);
        using var targets = LabelTargets.From(labels, 3, mix: mix);
        Assert.Equal(new float[] { 0.25f, 0, 0.75f, 0.75f, 0, 0.25f }, targets.Distribution.data<float>().ToArray());
        Assert.Equal(new float[] { 1, 1 }, targets.Weight.data<float>().ToArray());
        mixed.Dispose();
    }

    [Fact]
    public void CutMix_pastes_the_box_and_weighs_labels_by_its_true_area()
    {
        using var batch = TwoImages();
        using var permutation = tensor(new long[] { 1, 0 }, [2]);
        // Box rows [0, 1), columns [0, 2): half of a 2×2 image.
        var (mixed, mix) = BatchMixing.CutMix(batch, permutation, top: 0, bottom: 1, left: 0, right: 2);
        Assert.Equal(new float[] { 3, 3, 1, 1, 1, 1, 3, 3 }, mixed.data<float>().ToArray());
        Assert.Equal(0.5, mix.Lambda, 12);

        using var labels = tensor(new long[] { 1, 0 }, [2]);
        using var targets = LabelTargets.From(labels, 2, labelSmoothing: 0.2, mix: mix);
        // Smoothed one-hots: class 1 → [0.1, 0.9], class 0 → [0.9, 0.1]; mixed half and half: [0.5, 0.5] each.
        var d = targets.Distribution.data<float>().ToArray();
        Assert.All(d, v => Assert.Equal(0.5f, v, 6));
        mixed.Dispose();
    }

    [Fact]
    public void A_mix_with_an_unlabelled_image_has_no_hard_target()
    {
        using var labels = tensor(new long[] { 0, -1, 1 }, [3]);
        using var permutation = tensor(new long[] { 1, 0, 2 }, [3]);
        using var targets = LabelTargets.From(labels, 2, mix: new BatchMix(permutation, 0.7));
        Assert.Equal(new float[] { 0, 0, 1 }, targets.Weight.data<float>().ToArray());
        Assert.Equal(new float[] { 0, 0, 0, 0, 0, 1 }, targets.Distribution.data<float>().ToArray());
    }

    [Fact]
    public void Stored_teacher_logits_mix_as_probabilities_at_the_temperature()
    {
        using var teachers = tensor(new float[] { 2, 0, 0, 2 }, [2, 1, 2]); // image 0 favours class 0, image 1 class 1
        using var permutation = tensor(new long[] { 1, 0 }, [2]);
        const double t = 2, lambda = 0.3;
        using var mixed = new BatchMix(permutation, lambda).MixTeacherLogits(teachers, t);
        using var p = nn.functional.softmax(mixed / t, dim: 2);
        double a = Math.E / (Math.E + 1), b = 1 / (Math.E + 1); // softmax([2, 0] / 2)
        var expected = new[] { lambda * a + (1 - lambda) * b, lambda * b + (1 - lambda) * a, lambda * b + (1 - lambda) * a, lambda * a + (1 - lambda) * b };
        var actual = p.data<float>().ToArray();
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], actual[i], 5);
    }

    [Fact]
    public void Beta_draws_have_the_distributions_mean_and_stay_in_range()
    {
        var random = new Random(3);
        foreach (double a in new[] { 0.2, 1.0, 4.0 })
        {
            var draws = Enumerable.Range(0, 20_000).Select(_ => BatchMixing.Beta(random, a)).ToArray();
            Assert.All(draws, x => Assert.InRange(x, 0, 1));
            Assert.Equal(0.5, draws.Average(), 2); // Beta(a, a) is symmetric about ½
            double variance = draws.Select(x => (x - 0.5) * (x - 0.5)).Average();
            Assert.Equal(1 / (4 * (2 * a + 1)), variance, 2); // Var Beta(a, a) = 1 / (4(2a + 1))
        }
    }

    [Fact]
    public void Mixing_is_off_unless_asked_and_draws_the_same_for_the_same_seed()
    {
        using var batch = TwoImages();
        var (same, none) = BatchMixing.Apply(batch, new AugmentationOptions(), new Random(1));
        Assert.Same(batch, same);
        Assert.Null(none);

        var options = new AugmentationOptions { Mixup = 1, CutMix = 1 };
        var (x1, m1) = BatchMixing.Apply(batch, options, new Random(5));
        var (x2, m2) = BatchMixing.Apply(batch, options, new Random(5));
        Assert.Equal(m1!.Lambda, m2!.Lambda);
        Assert.Equal(x1.data<float>().ToArray(), x2.data<float>().ToArray());
        foreach (var t in new[] { x1, x2, m1.Permutation, m2.Permutation }) t.Dispose(); // Apply makes the permutation, so the caller owns it
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainerOptions { Augmentation = new AugmentationOptions { Mixup = double.NaN } }.Validate());
    }
}
