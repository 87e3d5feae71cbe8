using System.Globalization;

namespace Mtkd.Training.Data;

/// <summary>IDX files (Fashion-MNIST, MNIST): <c>train-images-idx3-ubyte[.gz]</c> and its siblings; "fashion-mnist" names the Debian package's.</summary>
public sealed class IdxSource : DatasetSource
{
    private IdxSource(string folder, IReadOnlyList<string> classNames) : base(folder, classNames, splitsGiven: true)
    {
    }

    internal static DatasetSource? TryResolve(string data, string flag, SplitOptions? split)
    {
        if (data == "fashion-mnist")
        {
            if (!Directory.Exists(FashionMnist.DefaultDirectory))
                throw new DirectoryNotFoundException($"Fashion-MNIST is not installed in {FashionMnist.DefaultDirectory}. Install it with: apt-get install {FashionMnist.DebianPackage}");
            return Open(FashionMnist.DefaultDirectory);
        }
        string full = Path.GetFullPath(data);
        return Directory.Exists(full) && Directory.EnumerateFiles(full).Any(f => Path.GetFileName(f).StartsWith("train-images-idx3-ubyte", StringComparison.Ordinal))
            ? Open(full) : null;
    }

    private static IdxSource Open(string folder)
    {
        string? classesFile = Directory.EnumerateFiles(folder, "classes.txt").FirstOrDefault();
        IReadOnlyList<string> classes = classesFile is not null ? File.ReadAllLines(classesFile).Where(l => l.Length > 0).ToArray()
            : folder.Contains("fashion", StringComparison.OrdinalIgnoreCase) ? FashionMnist.ClassNames
            : Enumerable.Range(0, 10).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        return new IdxSource(folder, classes);
    }

    /// <summary>Single-channel images of the files' own size; the header says which (read when first asked).</summary>
    public override ImageFormat? NativeFormat
    {
        get
        {
            var shape = IdxReader.ReadShape(IdxFiles("train").Images, expectedRank: 3);
            return new ImageFormat(1, shape[1], shape[2]);
        }
    }

    public override bool HasSplit(string split) => CheckSplit(split) is "train" or "test";

    /// <summary>The IDX images and labels files of a split ("train" or "test").</summary>
    public (string Images, string Labels) IdxFiles(string split)
    {
        string prefix = CheckSplit(split) switch { "train" => "train", "test" => "t10k", _ => throw new ArgumentException($"IDX data has train and test splits, not {split}.") };
        return (Existing(Location, $"{prefix}-images-idx3-ubyte"), Existing(Location, $"{prefix}-labels-idx1-ubyte"));
    }

    internal override CachedImages LoadCached(string split, ImageFormat format, string? cacheRoot = null, IReadOnlyList<string>? classNames = null, Action<string>? log = null, CancellationToken cancellation = default)
    {
        var (images, labels) = IdxFiles(split);
        return ImageCache.LoadIdx(images, labels, classNames ?? ClassNames, cacheRoot, log, cancellation);
    }

    private static string Existing(string folder, string name)
    {
        foreach (var candidate in new[] { name, name + ".gz" })
            if (File.Exists(Path.Combine(folder, candidate))) return Path.Combine(folder, candidate);
        throw new FileNotFoundException($"{folder} has no {name} or {name}.gz; expected the four IDX files of Fashion-MNIST or MNIST.");
    }
}
