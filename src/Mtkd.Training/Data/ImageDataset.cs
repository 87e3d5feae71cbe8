namespace Mtkd.Training.Data;

/// <summary>
/// Images in memory as float32 in NCHW order, the layout TorchSharp and our ONNX models use, each with its class
/// or <see cref="Unlabeled"/>: a distilled student learns unlabelled images from the teachers alone.
/// </summary>
public sealed class ImageDataset
{
    /// <summary>The label of an image without one.</summary>
    public const int Unlabeled = -1;

    public ImageDataset(float[] pixels, int[] labels, int channels, int height, int width, IReadOnlyList<string> classNames)
    {
        int imageSize = channels * height * width;
        if (imageSize <= 0)
            throw new ArgumentException($"Image shape {channels}x{height}x{width} must be positive.");
        if (pixels.Length != labels.Length * imageSize)
            throw new ArgumentException($"{pixels.Length} pixels do not make {labels.Length} images of {channels}x{height}x{width}.");
        int labeled = 0;
        foreach (var label in labels)
        {
            if (label < Unlabeled || label >= classNames.Count)
                throw new ArgumentException($"Label {label} is outside the {classNames.Count} classes (and is not {Unlabeled}, unlabelled).");
            if (label != Unlabeled) labeled++;
        }
        LabeledCount = labeled;
        Pixels = pixels;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        ClassNames = classNames;
    }

    /// <summary>All images, NCHW, row-major.</summary>
    public float[] Pixels { get; }
    /// <summary>Class index of each image, 0-based; <see cref="Unlabeled"/> for an image without one.</summary>
    public int[] Labels { get; }
    /// <summary>How many images have a label.</summary>
    public int LabeledCount { get; }
    public bool HasUnlabeled => LabeledCount < Count;
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public int Count => Labels.Length;
    public int ImageSize => Channels * Height * Width;
    public int ClassCount => ClassNames.Count;

    /// <summary>The images at the given indices, in that order.</summary>
    public ImageDataset Subset(IReadOnlyList<int> indices)
    {
        var pixels = new float[indices.Count * ImageSize];
        var labels = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            Array.Copy(Pixels, (long)indices[i] * ImageSize, pixels, (long)i * ImageSize, ImageSize);
            labels[i] = Labels[indices[i]];
        }
        return new ImageDataset(pixels, labels, Channels, Height, Width, ClassNames);
    }

    /// <summary>The labelled images only, in order (this dataset itself when every image is labelled).</summary>
    public ImageDataset LabeledOnly() =>
        HasUnlabeled ? Subset(Enumerable.Range(0, Count).Where(i => Labels[i] != Unlabeled).ToArray()) : this;

    /// <summary>These images followed by <paramref name="other"/>'s, which must have the same shape and classes.</summary>
    public ImageDataset Concat(ImageDataset other)
    {
        if (other.Channels != Channels || other.Height != Height || other.Width != Width || !other.ClassNames.SequenceEqual(ClassNames))
            throw new ArgumentException($"Cannot join images of {other.Channels}x{other.Height}x{other.Width} with {other.ClassCount} classes to images of {Channels}x{Height}x{Width} with {ClassCount} classes.");
        return new ImageDataset([.. Pixels, .. other.Pixels], [.. Labels, .. other.Labels], Channels, Height, Width, ClassNames);
    }

    /// <summary>The same images with every label removed.</summary>
    public ImageDataset WithoutLabels() =>
        new(Pixels, Enumerable.Repeat(Unlabeled, Count).ToArray(), Channels, Height, Width, ClassNames);

    /// <summary>The first <paramref name="count"/> images (all of them if there are fewer).</summary>
    public ImageDataset Take(int count) => Subset(Enumerable.Range(0, Math.Min(count, Count)).ToArray());

    /// <summary>
    /// A seeded hold-out split of the row indices: max(1, ⌊fraction × Count⌋) random rows for validation, the rest
    /// for training, each list in row order. The CLI and the ML.NET trainer both split with it, so a seed holds out
    /// the same images in both.
    /// </summary>
    public (int[] TrainRows, int[] ValidationRows) HoldOutRows(double fraction, int seed)
    {
        if (fraction is <= 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "Expected a validation fraction in (0, 1).");
        var order = Enumerable.Range(0, Count).ToArray();
        new Random(seed).Shuffle(order);
        int held = Math.Max(1, (int)(Count * fraction));
        return (order.Skip(held).Order().ToArray(), order.Take(held).Order().ToArray());
    }

    /// <summary>A seeded random sample of round(fraction × Count) distinct images, as used for bagging teachers.</summary>
    public ImageDataset RandomSubset(double fraction, int seed) => Subset(RandomSubsetRows(fraction, seed));

    /// <summary>The rows <see cref="RandomSubset"/> takes, in the order it takes them.</summary>
    public int[] RandomSubsetRows(double fraction, int seed)
    {
        if (fraction is <= 0 or > 1)
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "Expected a fraction in (0, 1].");
        var order = Enumerable.Range(0, Count).ToArray();
        new Random(seed).Shuffle(order);
        int n = Math.Max(1, (int)Math.Round(fraction * Count));
        return order[..n];
    }
}
