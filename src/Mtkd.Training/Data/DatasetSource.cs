namespace Mtkd.Training.Data;

/// <summary>
/// A dataset as every command, the samples and the ML.NET helpers name it: "fashion-mnist" (the Debian package's IDX
/// files), a folder of IDX files (<see cref="IdxSource"/>), an image folder (class folders, optionally under
/// train/val/test), a folder of unlabelled images, or a CSV/TSV manifest (<see cref="ImageFileSource"/>). Class names
/// come from the folder names or the manifest, in ordinal order, so every machine numbers them alike. Without given
/// splits, a fixed seeded <see cref="TestFraction"/> of each class is the test split, the same in every command (or
/// the seeded three-way split of <see cref="SplitOptions"/>). A new kind of source is one subclass and one line in
/// <see cref="Resolvers"/>.
/// </summary>
public abstract class DatasetSource
{
    /// <summary>The share of each class that is the test split when the data gives none.</summary>
    public const double TestFraction = 0.2;

    /// <summary>The split names: train, val (validation) and test.</summary>
    public static readonly IReadOnlyList<string> SplitNames = ["train", "val", "test"];

    // Tried in order; the first that recognises the value resolves it (null: not mine).
    private static readonly Func<string, string, SplitOptions?, DatasetSource?>[] Resolvers =
    [
        IdxSource.TryResolve,
        ImageFileSource.TryResolve,
    ];

    private protected DatasetSource(string location, IReadOnlyList<string> classNames, bool splitsGiven)
    {
        (Location, ClassNames, SplitsGiven) = (location, classNames, splitsGiven);
    }

    /// <summary>The folder or file, as a full path ("fashion-mnist" resolved to its folder).</summary>
    public string Location { get; }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Whether the data names its splits (IDX files, split folders, a manifest's split column), rather than a seeded share.</summary>
    public bool SplitsGiven { get; }

    /// <summary>Whether the images carry labels (a folder of images without class folders has none).</summary>
    public bool HasLabels => ClassNames.Count > 0;

    /// <summary>The image format the data has of itself (IDX files: their own size), or null when images are decoded to the format asked for.</summary>
    public virtual ImageFormat? NativeFormat => null;

    /// <summary>Whether the data has images for <paramref name="split"/> (train, val or test).</summary>
    public abstract bool HasSplit(string split);

    /// <summary>The images of one split, decoded once into the image cache and read from it.</summary>
    /// <param name="split">train, val or test.</param>
    /// <param name="format">Size, channels and resize mode; ignored where <see cref="NativeFormat"/> is set.</param>
    /// <param name="cacheRoot">Where caches live; null for the user's cache folder (<c>~/.cache/mtkd</c>, or <c>$MTKD_CACHE</c>).</param>
    /// <param name="classNames">The class names to give the images (an unlabelled folder has none of its own); null for the source's.</param>
    /// <param name="log">Told when a cache is built and how many images were decoded.</param>
    /// <param name="cancellation">Stops building a cache between blocks of images; nothing of the partial cache is kept.</param>
    public ImageDataset Load(string split, ImageFormat format, string? cacheRoot = null, IReadOnlyList<string>? classNames = null, Action<string>? log = null, CancellationToken cancellation = default) =>
        LoadCached(split, format, cacheRoot, classNames, log, cancellation).Images;

    /// <summary>As <see cref="Load"/>, with what the cache says: files that did not decode, and whether it was rebuilt.</summary>
    internal abstract CachedImages LoadCached(string split, ImageFormat format, string? cacheRoot = null, IReadOnlyList<string>? classNames = null, Action<string>? log = null, CancellationToken cancellation = default);

    /// <summary>
    /// Resolves a <c>--data</c> value. Refuses, naming the path, a value that is none of the kinds, a folder with fewer
    /// than two classes, and a manifest row whose file is missing or whose columns are wrong; <paramref name="flag"/>
    /// names the value in those messages. <paramref name="split"/> asks for the seeded three-way split (and image
    /// checks) where the data gives no splits; null for the fixed test share.
    /// </summary>
    public static DatasetSource Resolve(string data, string flag = "--data", SplitOptions? split = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(data);
        foreach (var resolve in Resolvers)
            if (resolve(data, flag, split) is { } source)
                return source;
        throw new DirectoryNotFoundException($"{flag} {data}: no such folder or file. Expected 'fashion-mnist', a folder of IDX files, an image " +
            $"folder (ROOT/<class>/*.png or ROOT/train|val|test/<class>/…), a folder of unlabelled images, or a CSV/TSV manifest of path,label.");
    }

    /// <summary>
    /// The fixed seeded test split of data that gives none: <see cref="TestFraction"/> of each class (drawn with seed 0,
    /// class by class), the rest to train; unlabelled rows all train. The same rows on every machine and in every command.
    /// </summary>
    private protected static (List<T> Train, List<T> Test) TestShare<T>(IReadOnlyList<T> rows, Func<T, int> labelOf)
    {
        var train = new List<T>();
        var test = new List<T>();
        var random = new Random(0);
        foreach (var group in rows.GroupBy(labelOf).OrderBy(g => g.Key))
        {
            var members = group.ToArray();
            if (group.Key == ImageDataset.Unlabeled)
            {
                train.AddRange(members);
                continue;
            }
            var order = Enumerable.Range(0, members.Length).ToArray();
            random.Shuffle(order);
            var held = order.Take((int)Math.Round(TestFraction * members.Length)).ToHashSet();
            for (int i = 0; i < members.Length; i++) (held.Contains(i) ? test : train).Add(members[i]);
        }
        return (train, test);
    }

    private protected static string CheckSplit(string split) => SplitNames.Contains(split) ? split
        : throw new ArgumentException($"Split '{split}': expected train, val or test.");
}
