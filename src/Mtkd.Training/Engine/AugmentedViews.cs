using Mtkd.Training.Data;
using static TorchSharp.torch;

namespace Mtkd.Training.Engine;

/// <summary>
/// A fixed pool of augmented views of a dataset: view v of image i is drawn once, from a seed, and kept. Teachers
/// scored once on the pool give consistent soft labels (the student sees exactly the view its teachers judged,
/// as in Beyer et al. 2022) at the cost of one teacher pass per view, shared by every student trained on it,
/// where on-the-fly teachers pay a pass per student step.
/// </summary>
internal static class AugmentedViews
{
    /// <summary>
    /// <paramref name="views"/> augmented copies of <paramref name="data"/>, view-major: rows [v·N, (v+1)·N) are
    /// view v of images 0..N−1, so a student trained one epoch over the pool sees each image <paramref name="views"/>
    /// times. The same seed gives the same pool.
    /// </summary>
    /// <param name="data">The images to augment.</param>
    /// <param name="augmentation">What each view draws (shift, flip, rotation); must draw something.</param>
    /// <param name="views">Copies of the dataset in the pool.</param>
    /// <param name="seed">Seeds every view's draws.</param>
    /// <param name="includeOriginal">Make view 0 the unaugmented images themselves.</param>
    /// <param name="batchSize">Images augmented per tensor operation.</param>
    /// <param name="cancellation">Stops between batches; the partial pool is removed.</param>
    public static ImageDataset Create(ImageDataset data, AugmentationOptions augmentation, int views, int seed, bool includeOriginal = false, int batchSize = 1024,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(augmentation);
        if (views < 1) throw new ArgumentOutOfRangeException(nameof(views), views, "Need at least one view.");
        if (!augmentation.Any) throw new ArgumentException("The augmentation draws nothing (no shift, flip or rotation); every view would be the original.", nameof(augmentation));
        TorchRuntime.EnsureLoaded();
        // The pool is written to the temporary folder whole: refused before the first byte when it cannot fit.
        long bytes = (long)views * data.Count * data.ImageSize * sizeof(float);
        long free = DiskSpace.Free(Path.GetTempPath());
        if (bytes > free)
            throw new ArgumentException($"Views {views}: a pool of {views} × {data.Count:N0} images needs {DiskSpace.Size(bytes)} in {Path.GetTempPath()}, " +
                $"which has {DiskSpace.Size(free)} free; use fewer views (or set TMPDIR to a larger disk).");

        int imageSize = data.ImageSize;
        batchSize = PixelTensors.InferenceBatch(data, batchSize);
        var images = new PixelTensors(data, batchSize);
        var labels = new int[checked(views * data.Count)];
        // The pool goes to a temporary file, not an array: views × the dataset would not fit in memory for photographs.
        using var writer = PixelFileWriter.CreateTemporary(PixelElement.Float32, imageSize);
        var pixels = new float[(long)batchSize * imageSize];
        for (int v = 0; v < views; v++)
        {
            Array.Copy(data.Labels, 0, labels, v * data.Count, data.Count);
            bool original = v == 0 && includeOriginal;
            var random = new Random(unchecked(seed * 1_000_003 + v));
            for (int start = 0; start < data.Count; start += batchSize)
            {
                if (cancellation.IsCancellationRequested)
                    throw new OperationCanceledException($"the run stopped while drawing the pool of views (view {v + 1} of {views}); nothing of it was kept.", cancellation);
                using var scope = NewDisposeScope();
                int n = Math.Min(batchSize, data.Count - start);
                var batch = images.Read(start, n);
                var view = (original ? batch : TensorAugmentation.Apply(batch, augmentation, random)).contiguous();
                var values = view.data<float>();
                values.CopyTo(pixels, 0);
                for (int i = 0; i < n; i++)
                    writer.Append(pixels.AsSpan(i * imageSize, imageSize));
            }
        }
        var pool = writer.ToTemporaryStore();
        return new ImageDataset(pool, labels, data.Channels, data.Height, data.Width, data.ClassNames);
    }
}
