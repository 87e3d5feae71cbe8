using Mtkd.Training;
using Mtkd.Training.Engine;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Engine;

public sealed class ScheduleAndAugmentationTests
{
    // 10 epochs of 100 steps, base rate 1.
    private static double Rate(ScheduleKind schedule, double epoch, double warmup = 0) =>
        LearningRateSchedule.At(new TrainerOptions { Epochs = 10, LearningRate = 1, Schedule = schedule, WarmupEpochs = warmup, StepEpochs = 3, StepGamma = 0.5, CycleEpochs = 4 },
            (long)(epoch * 100), 100);

    [Fact]
    public void Schedules_follow_their_formulas()
    {
        Assert.Equal(1, Rate(ScheduleKind.Constant, 7.3), 12);
        Assert.Equal(1, Rate(ScheduleKind.Cosine, 0), 12);
        Assert.Equal(0.5, Rate(ScheduleKind.Cosine, 5), 12);            // half-way: (1 + cos π/2)/2
        Assert.Equal(1.0 / 25, Rate(ScheduleKind.OneCycle, 0), 12);     // starts at base/25
        Assert.Equal(1, Rate(ScheduleKind.OneCycle, 3), 12);            // peaks at 30 %
        Assert.Equal(1, Rate(ScheduleKind.Step, 2.99), 12);
        Assert.Equal(0.5, Rate(ScheduleKind.Step, 3), 12);              // ×0.5 every 3 epochs
        Assert.Equal(0.25, Rate(ScheduleKind.Step, 6.5), 12);
        Assert.Equal(0.5, Rate(ScheduleKind.CyclicCosine, 2), 12);      // half-way through a 4-epoch cycle
        Assert.Equal(1, Rate(ScheduleKind.CyclicCosine, 4), 12);        // restarts
    }

    [Fact]
    public void Warm_up_rises_linearly_then_hands_over()
    {
        Assert.Equal(0.01, Rate(ScheduleKind.Cosine, 0, warmup: 1), 12);     // step 1 of 100
        Assert.Equal(0.5, Rate(ScheduleKind.Cosine, 0.49, warmup: 1), 12);   // step 50 of 100
        Assert.Equal(1, Rate(ScheduleKind.Cosine, 1, warmup: 1), 12);        // then the cosine from the top
        Assert.Equal(0.5, Rate(ScheduleKind.Cosine, 5.5, warmup: 1), 12);    // half of the 9 remaining epochs
    }

    private static Tensor Dot()
    {
        // One bright pixel at (row 10, column 5) of a 1×20×20 image, twice.
        var image = new float[2 * 400];
        image[10 * 20 + 5] = 1;
        image[400 + 10 * 20 + 5] = 1;
        return tensor(image, [2, 1, 20, 20]);
    }

    private static (int Row, int Column) Where(Tensor image)
    {
        var values = image.data<float>().ToArray();
        int index = Array.IndexOf(values, values.Max());
        return (index / 20, index % 20);
    }

    [Fact]
    public void Shifts_move_the_content_by_at_most_the_padding()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var seen = new HashSet<(int, int)>();
        var random = new Random(1);
        for (int i = 0; i < 20; i++)
        {
            var shifted = TensorAugmentation.Apply(Dot(), new AugmentationOptions { ShiftPixels = 2 }, random);
            Assert.Equal(1f, shifted[0].sum().item<float>(), 5); // the pixel stays inside
            var (row, column) = Where(shifted[0]);
            Assert.InRange(row, 8, 12);
            Assert.InRange(column, 3, 7);
            seen.Add((row, column));
        }
        Assert.True(seen.Count > 5, "shifts should vary");
    }

    [Fact]
    public void Flips_mirror_columns_and_rotations_keep_the_pixel_near_its_circle()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var random = new Random(2);
        var flipped = Enumerable.Range(0, 10).Select(_ => Where(TensorAugmentation.Apply(Dot(), new AugmentationOptions { HorizontalFlip = true }, random)[0])).ToArray();
        Assert.All(flipped, p => Assert.Contains(p, new[] { (10, 5), (10, 14) }));
        Assert.Contains((10, 14), flipped);

        var rotated = TensorAugmentation.Apply(Dot(), new AugmentationOptions { RotationDegrees = 30 }, random)[0];
        var (row, column) = Where(rotated);
        double radius(double r, double c) => Math.Sqrt((r - 9.5) * (r - 9.5) + (c - 9.5) * (c - 9.5));
        Assert.InRange(radius(row, column), radius(10, 5) - 1.5, radius(10, 5) + 1.5);
    }

    [Fact]
    public void The_same_random_stream_gives_the_same_augmentation()
    {
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var options = new AugmentationOptions { ShiftPixels = 3, HorizontalFlip = true, RotationDegrees = 15 };
        var a = TensorAugmentation.Apply(Dot(), options, new Random(7)).data<float>().ToArray();
        var b = TensorAugmentation.Apply(Dot(), options, new Random(7)).data<float>().ToArray();
        Assert.Equal(a, b);
    }
}

public sealed class SeedMixingTests
{
    [Fact]
    public void Per_epoch_seeds_are_fixed_numbers_not_per_process_hashes()
    {
        // The same SplitMix-style arithmetic done in Python gives 486982573; a per-process hash (HashCode.Combine) would change from run to run.
        Assert.Equal(486982573, Mtkd.Training.Engine.TrainingLoop.Mix(1, 1, 1));
        Assert.NotEqual(Mtkd.Training.Engine.TrainingLoop.Mix(1, 1, 1), Mtkd.Training.Engine.TrainingLoop.Mix(1, 2, 1));
    }
}
