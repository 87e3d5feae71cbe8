using Mtkd.Training.Data;
using Mtkd.Training.Engine;

namespace Mtkd.Training.Tests.Engine;

/// <summary>The fixed pool of augmented views that lets teachers be scored once for every student.</summary>
public sealed class AugmentedViewsTests
{
    private static readonly AugmentationOptions ShiftAndFlip = new() { ShiftPixels = 2, HorizontalFlip = true };

    [Fact]
    public void The_pool_is_view_major_with_the_original_first_and_repeats_the_labels()
    {
        var data = TrainingFixtures.Train.Take(50);
        var pool = AugmentedViews.Create(data, ShiftAndFlip, views: 3, seed: 5, includeOriginal: true, batchSize: 16);

        Assert.Equal(150, pool.Count);
        Assert.Equal(data.ReadAllPixels(), pool.ReadAllPixels().AsSpan(0, data.ReadAllPixels().Length).ToArray());
        for (int v = 0; v < 3; v++)
            Assert.Equal(data.Labels, pool.Labels.AsSpan(v * 50, 50).ToArray());
        var view1 = pool.ReadAllPixels().AsSpan(data.ReadAllPixels().Length, data.ReadAllPixels().Length).ToArray();
        var view2 = pool.ReadAllPixels().AsSpan(2 * data.ReadAllPixels().Length, data.ReadAllPixels().Length).ToArray();
        Assert.NotEqual(data.ReadAllPixels(), view1);
        Assert.NotEqual(view1, view2);
        // Shifts and flips move pixels, they do not invent ink: every view keeps each image's brightest value or drops it at the border.
        for (int i = 0; i < 50; i++)
            Assert.True(view1.AsSpan(i * data.ImageSize, data.ImageSize).ToArray().Max() <= data.ReadAllPixels().AsSpan(i * data.ImageSize, data.ImageSize).ToArray().Max());
    }

    [Fact]
    public void The_same_seed_gives_the_same_pool_and_another_seed_another()
    {
        var data = TrainingFixtures.Train.Take(40);
        var a = AugmentedViews.Create(data, ShiftAndFlip, views: 2, seed: 5, batchSize: 40);
        var b = AugmentedViews.Create(data, ShiftAndFlip, views: 2, seed: 5, batchSize: 40);
        var c = AugmentedViews.Create(data, ShiftAndFlip, views: 2, seed: 6, batchSize: 40);
        Assert.Equal(a.ReadAllPixels(), b.ReadAllPixels());
        Assert.NotEqual(a.ReadAllPixels(), c.ReadAllPixels());
        Assert.NotEqual(data.ReadAllPixels(), a.ReadAllPixels().AsSpan(0, data.ReadAllPixels().Length).ToArray()); // without includeOriginal, view 0 is augmented too
    }

    [Fact]
    public void An_augmentation_that_draws_nothing_and_a_zero_view_count_are_refused()
    {
        var data = TrainingFixtures.Train.Take(4);
        Assert.Contains("draws nothing", Assert.Throws<ArgumentException>(() => AugmentedViews.Create(data, new AugmentationOptions(), 2, 1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => AugmentedViews.Create(data, ShiftAndFlip, 0, 1));
    }

    private static string[] OwnScratchFiles() =>
        Directory.EnumerateFiles(Path.GetTempPath(), $"mtkd-pixels-{Environment.ProcessId}-*.bin").ToArray();

    [Fact]
    public void A_pool_that_would_not_fit_is_refused_before_a_byte_is_written()
    {
        Assert.True(DiskSpace.Free(Path.GetTempPath()) > 0);
        var before = OwnScratchFiles();
        var real = DiskSpace.Free;
        DiskSpace.Free = _ => 10L << 20; // a disk with 10 MiB free
        try
        {
            var e = Assert.Throws<ArgumentException>(() =>
                AugmentedViews.Create(TrainingFixtures.Train, new AugmentationOptions { ShiftPixels = 2 }, views: 100, seed: 1));
            Assert.Contains("needs 119.6 MiB", e.Message);
            Assert.Contains("which has 10.0 MiB free", e.Message);
        }
        finally
        {
            DiskSpace.Free = real;
        }
        Assert.Equal(before, OwnScratchFiles());
    }

    [Fact]
    public void A_stop_while_drawing_the_pool_leaves_no_scratch_file()
    {
        var before = OwnScratchFiles();
        using var stop = new CancellationTokenSource();
        stop.Cancel();
        var e = Assert.Throws<OperationCanceledException>(() =>
            AugmentedViews.Create(TrainingFixtures.Train, new AugmentationOptions { ShiftPixels = 2 }, views: 3, seed: 1, cancellation: stop.Token));
        Assert.Contains("pool of views", e.Message);
        Assert.Equal(before, OwnScratchFiles());
    }

    [Fact]
    public void Scratch_files_of_killed_processes_are_removed_by_the_next_one()
    {
        using var gone = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true") { UseShellExecute = false })!;
        gone.WaitForExit();
        var orphan = Path.Combine(Path.GetTempPath(), $"mtkd-pixels-{gone.Id}-{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(orphan, new byte[100]);
        using (PixelFileWriter.CreateTemporary(PixelElement.Float32, 4)) { }
        Assert.False(File.Exists(orphan));
    }
}
