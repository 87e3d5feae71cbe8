namespace Mtkd.Training.Data;

/// <summary>
/// Images as float32 in NCHW order, the layout TorchSharp and our ONNX models use, each with its class or
/// <see cref="Unlabeled"/>: a distilled student learns unlabelled images from the teachers alone. The pixels live in
/// a <see cref="PixelStore"/> (an array, or a file read a batch at a time); subsets, joins and label changes share
/// it through a row map instead of copying pixels.
/// </summary>
public sealed class ImageDataset
{
    /// <summary>The label of an image without one.</summary>
    public const int Unlabeled = -1;

    private readonly long[]? rows; // row i of this dataset is store row rows[i]; null: the store's rows in order
    private readonly IReadOnlyDictionary<string, DataColumn> columns; // per row of this dataset, in row order

    /// <summary>Images in one array, image after image.</summary>
    public ImageDataset(float[] pixels, int[] labels, int channels, int height, int width, IReadOnlyList<string> classNames)
        : this(StoreOf(pixels, labels, channels, height, width), null, labels, channels, height, width, classNames, NoColumns)
    {
    }

    /// <summary>Images in a store (for example a <see cref="PixelFile"/> cache), one label per stored image.</summary>
    internal ImageDataset(PixelStore store, int[] labels, int channels, int height, int width, IReadOnlyList<string> classNames)
        : this(store, null, labels, channels, height, width, classNames, NoColumns)
    {
    }

    private static readonly IReadOnlyDictionary<string, DataColumn> NoColumns = new Dictionary<string, DataColumn>();

    private ImageDataset(PixelStore store, long[]? rows, int[] labels, int channels, int height, int width, IReadOnlyList<string> classNames,
        IReadOnlyDictionary<string, DataColumn> columns)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(labels);
        int imageSize = channels * height * width;
        if (channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"Image shape {channels}x{height}x{width} must be positive.");
        if (store.ImageSize != imageSize)
            throw new ArgumentException($"The store holds images of {store.ImageSize} values, not {channels}x{height}x{width}.");
        if ((rows?.LongLength ?? store.Count) != labels.Length)
            throw new ArgumentException($"{rows?.LongLength ?? store.Count} images but {labels.Length} labels.");
        int labeled = 0;
        foreach (var label in labels)
        {
            if (label < Unlabeled || label >= classNames.Count)
                throw new ArgumentException($"Label {label} is outside the {classNames.Count} classes (and is not {Unlabeled}, unlabelled).");
            if (label != Unlabeled) labeled++;
        }
        LabeledCount = labeled;
        Store = store;
        this.rows = rows;
        this.columns = columns;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        ClassNames = classNames;
    }

    private static ArrayPixelStore StoreOf(float[] pixels, int[] labels, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        long imageSize = (long)channels * height * width;
        if (imageSize <= 0)
            throw new ArgumentException($"Image shape {channels}x{height}x{width} must be positive.");
        if (pixels.LongLength != labels.Length * imageSize)
            throw new ArgumentException($"{pixels.Length} pixels do not make {labels.Length} images of {channels}x{height}x{width}.");
        return new ArrayPixelStore(pixels, (int)imageSize);
    }

    /// <summary>Where the pixels are read from (shared with subsets of this dataset).</summary>
    internal PixelStore Store { get; }
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

    /// <summary>Whether the rows are feature vectors (F×1×1: a table's rows, an MLP's input), not images.</summary>
    public bool IsFeatureVectors => Height == 1 && Width == 1;
    public int ClassCount => ClassNames.Count;

    /// <summary>Copies the images at <paramref name="indices"/> (rows of this dataset) into <paramref name="destination"/>, one after another.</summary>
    public void ReadImages(ReadOnlySpan<long> indices, Span<float> destination)
    {
        if (rows is null)
        {
            Store.Read(indices, destination);
            return;
        }
        Span<long> mapped = indices.Length <= 1024 ? stackalloc long[indices.Length] : new long[indices.Length];
        for (int i = 0; i < indices.Length; i++) mapped[i] = rows[indices[i]];
        Store.Read(mapped, destination);
    }

    /// <summary>Copies <paramref name="count"/> consecutive images from <paramref name="start"/>.</summary>
    public void ReadImages(int start, int count, Span<float> destination)
    {
        if (start < 0 || count < 0 || start + count > Count)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"Images {start}..{start + count - 1} are not all among the {Count}.");
        if (rows is null)
        {
            Store.ReadRange(start, count, destination);
            return;
        }
        Span<long> indices = count <= 1024 ? stackalloc long[count] : new long[count];
        for (int i = 0; i < count; i++) indices[i] = start + i;
        ReadImages(indices, destination);
    }

    /// <summary>Image <paramref name="index"/>'s pixels, a new array.</summary>
    public float[] ReadImage(int index)
    {
        var pixels = new float[ImageSize];
        ReadImages(index, 1, pixels);
        return pixels;
    }

    /// <summary>
    /// Every image's pixels in one new array. For small data and tests: a dataset of photographs does not fit;
    /// read batches with <see cref="ReadImages(int, int, Span{float})"/> instead.
    /// </summary>
    public float[] ReadAllPixels()
    {
        var pixels = new float[checked((long)Count * ImageSize)];
        ReadImages(0, Count, pixels);
        return pixels;
    }

    /// <summary>The images at the given indices, in that order (sharing this dataset's pixels).</summary>
    public ImageDataset Subset(IReadOnlyList<int> indices)
    {
        var map = new long[indices.Count];
        var labels = new int[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            int index = indices[i];
            if ((uint)index >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(indices), index, $"Image {index} is not among the {Count}.");
            map[i] = rows?[index] ?? index;
            labels[i] = Labels[index];
        }
        return new ImageDataset(Store, map, labels, Channels, Height, Width, ClassNames,
            columns.ToDictionary(c => c.Key, c => c.Value.Gather(indices)));
    }

    /// <summary>The labelled images only, in order (this dataset itself when every image is labelled).</summary>
    public ImageDataset LabeledOnly() =>
        HasUnlabeled ? Subset(Enumerable.Range(0, Count).Where(i => Labels[i] != Unlabeled).ToArray()) : this;

    /// <summary>These images followed by <paramref name="other"/>'s, which must have the same shape and classes.</summary>
    public ImageDataset Concat(ImageDataset other)
    {
        if (other.Channels != Channels || other.Height != Height || other.Width != Width || !other.ClassNames.SequenceEqual(ClassNames))
            throw new ArgumentException($"Cannot join images of {other.Channels}x{other.Height}x{other.Width} with {other.ClassCount} classes to " +
                $"images of {Channels}x{Height}x{Width} with {ClassCount} classes.");
        long[] Map(ImageDataset d, long shift) => d.rows is null ? LongRange(shift, d.Count) : shift == 0 ? d.rows : d.rows.Select(r => r + shift).ToArray();
        var store = ReferenceEquals(other.Store, Store) ? Store : new ConcatenatedPixelStore(Store, other.Store);
        long otherShift = ReferenceEquals(other.Store, Store) ? 0 : Store.Count;
        // A column travels on only where both sides have it (with the same width); the others are dropped.
        var joined = columns.Where(c => other.columns.TryGetValue(c.Key, out var o) && o.Width == c.Value.Width)
            .ToDictionary(c => c.Key, c => new DataColumn([.. c.Value.Values, .. other.columns[c.Key].Values], c.Value.Width));
        return new ImageDataset(store, [.. Map(this, 0), .. Map(other, otherShift)], [.. Labels, .. other.Labels], Channels, Height, Width, ClassNames, joined);
    }

    private static long[] LongRange(long start, int count)
    {
        var values = new long[count];
        for (int i = 0; i < count; i++) values[i] = start + i;
        return values;
    }

    /// <summary>The same images with every label removed.</summary>
    public ImageDataset WithoutLabels() =>
        new(Store, rows, Enumerable.Repeat(Unlabeled, Count).ToArray(), Channels, Height, Width, ClassNames, columns);

    /// <summary>The same images with other labels (one per image).</summary>
    public ImageDataset WithLabels(int[] labels) => new(Store, rows, labels, Channels, Height, Width, ClassNames, columns);

    /// <summary>The same images and labels under other class names (as many as there are classes, or more).</summary>
    public ImageDataset WithClassNames(IReadOnlyList<string> classNames) => new(Store, rows, Labels, Channels, Height, Width, classNames, columns);

    /// <summary>The same images normalized per channel as they are read, (x − mean[c]) / std[c] (see <see cref="NormalizedPixelStore"/>).</summary>
    public ImageDataset Normalized(IReadOnlyList<float> mean, IReadOnlyList<float> std) =>
        new(new NormalizedPixelStore(Store, Channels, mean, std), rows, Labels, Channels, Height, Width, ClassNames, columns);

    /// <summary>
    /// The same images with a column of <paramref name="width"/> values per row added (or replaced): teacher signals
    /// (<see cref="TeacherColumns"/>) travel with their rows through subsets, hold-outs, label changes and joins.
    /// </summary>
    public ImageDataset WithColumn(string name, float[] values, int width)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (width < 1 || values.LongLength != (long)Count * width)
            throw new ArgumentException($"Column '{name}' has {values.LongLength} values; expected {Count} images × {width} = {(long)Count * width}.", nameof(values));
        var added = new Dictionary<string, DataColumn>(columns) { [name] = new DataColumn(values, width) };
        return new ImageDataset(Store, rows, Labels, Channels, Height, Width, ClassNames, added);
    }

    /// <summary>The same images without column <paramref name="name"/>.</summary>
    public ImageDataset WithoutColumn(string name) =>
        columns.ContainsKey(name) ? new ImageDataset(Store, rows, Labels, Channels, Height, Width, ClassNames,
            columns.Where(c => c.Key != name).ToDictionary(c => c.Key, c => c.Value)) : this;

    /// <summary>The names of the columns these images carry.</summary>
    public IReadOnlyCollection<string> ColumnNames => columns.Keys.ToArray();

    /// <summary>Column <paramref name="name"/>'s values, row after row, and its width; null when there is no such column.</summary>
    public (float[] Values, int Width)? Column(string name) => columns.TryGetValue(name, out var c) ? (c.Values, c.Width) : null;

    /// <summary>The first <paramref name="count"/> images (all of them if there are fewer).</summary>
    public ImageDataset Take(int count) => count >= Count ? this : Subset(Enumerable.Range(0, Math.Max(0, count)).ToArray());

    /// <summary>
    /// A seeded hold-out split of the row indices: max(1, ⌊fraction × Count⌋) random rows for validation, the rest
    /// for training, each list in row order. The CLI and the ML.NET trainer both split with it, so a seed holds out
    /// the same images in both.
    /// </summary>
    public (int[] TrainRows, int[] ValidationRows) HoldOutRows(double fraction, int seed)
    {
        if (!(fraction is > 0 and < 1)) // NaN fails too
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
        if (!(fraction is > 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "Expected a fraction in (0, 1].");
        var order = Enumerable.Range(0, Count).ToArray();
        new Random(seed).Shuffle(order);
        int n = Math.Max(1, (int)Math.Round(fraction * Count));
        return order[..n];
    }

    /// <summary>A column's values in this dataset's row order.</summary>
    private sealed record DataColumn(float[] Values, int Width)
    {
        public DataColumn Gather(IReadOnlyList<int> indices)
        {
            var values = new float[(long)indices.Count * Width];
            for (int i = 0; i < indices.Count; i++)
                Array.Copy(Values, (long)indices[i] * Width, values, (long)i * Width, Width);
            return new DataColumn(values, Width);
        }
    }
}
