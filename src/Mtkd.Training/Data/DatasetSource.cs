using System.Globalization;

namespace Mtkd.Training.Data;

/// <summary>What a <c>--data</c> value names.</summary>
public enum DatasetKind
{
    /// <summary>IDX files (Fashion-MNIST, MNIST): <c>train-images-idx3-ubyte[.gz]</c> and its siblings.</summary>
    Idx,

    /// <summary>A folder of class folders, <c>ROOT/&lt;class&gt;/*.png</c>, or of split folders, <c>ROOT/{train,val,test}/&lt;class&gt;/…</c>.</summary>
    ImageFolder,

    /// <summary>A folder of images without class folders: unlabelled data.</summary>
    UnlabeledFolder,

    /// <summary>A CSV or TSV file of <c>path,label[,split]</c>, paths relative to the file, an empty label for an unlabelled image.</summary>
    Manifest,
}

/// <summary>One image file and its class index (<see cref="ImageDataset.Unlabeled"/> for none).</summary>
internal sealed record ImageEntry(string Path, int Label);

/// <summary>
/// One way to name a dataset, used by every command, the samples and the ML.NET helpers: "fashion-mnist" (the
/// Debian package's IDX files), a folder of IDX files, an image folder (class folders, optionally under
/// train/val/test), a folder of unlabelled images, or a CSV/TSV manifest. Class names come from the folder names or
/// the manifest, in ordinal order, so every machine numbers them alike. Without given splits, a fixed seeded
/// <see cref="TestFraction"/> of each class is the test split, the same in every command.
/// </summary>
public sealed class DatasetSource
{
    /// <summary>The share of each class that is the test split when the data gives none.</summary>
    public const double TestFraction = 0.2;

    /// <summary>The split names: train, val (validation) and test.</summary>
    public static readonly IReadOnlyList<string> SplitNames = ["train", "val", "test"];

    private static readonly string[] ValidationFolderNames = ["val", "validation", "valid"];
    private readonly Dictionary<string, List<ImageEntry>> splits;

    private DatasetSource(string location, DatasetKind kind, IReadOnlyList<string> classNames, Dictionary<string, List<ImageEntry>> splits, bool splitsGiven)
    {
        (Location, Kind, ClassNames, this.splits, SplitsGiven) = (location, kind, classNames, splits, splitsGiven);
    }

    /// <summary>The folder or file, as a full path ("fashion-mnist" resolved to its folder).</summary>
    public string Location { get; }
    public DatasetKind Kind { get; }
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Whether the data names its splits (IDX files, split folders, a manifest's split column), rather than the seeded test share.</summary>
    public bool SplitsGiven { get; }

    /// <summary>Whether the data has images for <paramref name="split"/> (train, val or test).</summary>
    public bool HasSplit(string split) => Kind == DatasetKind.Idx
        ? CheckSplit(split) is "train" or "test"
        : splits.TryGetValue(CheckSplit(split), out var entries) && entries.Count > 0;

    /// <summary>The image files of one split, in a stable order (class, then file name). Not for IDX data, which has no files per image.</summary>
    internal IReadOnlyList<ImageEntry> Entries(string split)
    {
        if (Kind == DatasetKind.Idx)
            throw new InvalidOperationException("IDX data has no image files; load it with ImageCache.LoadIdx.");
        return splits.TryGetValue(CheckSplit(split), out var entries) ? entries
            : throw new ArgumentException($"{Location} has no {split} split (it has {string.Join(", ", splits.Where(s => s.Value.Count > 0).Select(s => s.Key))}).");
    }

    /// <summary>The IDX images and labels files of a split ("train" or "test").</summary>
    public (string Images, string Labels) IdxFiles(string split)
    {
        string prefix = CheckSplit(split) switch { "train" => "train", "test" => "t10k", _ => throw new ArgumentException($"IDX data has train and test splits, not {split}.") };
        return (Existing(Location, $"{prefix}-images-idx3-ubyte"), Existing(Location, $"{prefix}-labels-idx1-ubyte"));
    }

    private static string CheckSplit(string split) => SplitNames.Contains(split) ? split
        : throw new ArgumentException($"Split '{split}': expected train, val or test.");

    /// <summary>
    /// Resolves a <c>--data</c> value. Refuses, naming the path, a value that is none of the kinds, a folder with fewer
    /// than two classes, and a manifest row whose file is missing or whose columns are wrong; <paramref name="flag"/>
    /// names the value in those messages.
    /// </summary>
    public static DatasetSource Resolve(string data, string flag = "--data")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(data);
        if (data == "fashion-mnist")
        {
            if (!Directory.Exists(FashionMnist.DefaultDirectory))
                throw new DirectoryNotFoundException($"Fashion-MNIST is not installed in {FashionMnist.DefaultDirectory}. Install it with: apt-get install {FashionMnist.DebianPackage}");
            return Idx(FashionMnist.DefaultDirectory);
        }
        string full = System.IO.Path.GetFullPath(data);
        if (File.Exists(full))
        {
            string extension = System.IO.Path.GetExtension(full).ToLowerInvariant();
            if (extension is ".csv" or ".tsv" or ".txt")
                return Manifest(full, extension == ".tsv" ? '\t' : ',');
            throw new ArgumentException($"{flag} {data}: a file must be a .csv or .tsv manifest of path,label; to use a folder of images, give the folder.");
        }
        if (!Directory.Exists(full))
            throw new DirectoryNotFoundException($"{flag} {data}: no such folder or file. Expected 'fashion-mnist', a folder of IDX files, an image " +
                $"folder (ROOT/<class>/*.png or ROOT/train|val|test/<class>/…), a folder of unlabelled images, or a CSV/TSV manifest of path,label.");
        if (Directory.EnumerateFiles(full).Any(f => System.IO.Path.GetFileName(f).StartsWith("train-images-idx3-ubyte", StringComparison.Ordinal)))
            return Idx(full);
        return Folder(full);
    }

    private static DatasetSource Idx(string folder)
    {
        string? classesFile = Directory.EnumerateFiles(folder, "classes.txt").FirstOrDefault();
        IReadOnlyList<string> classes = classesFile is not null ? File.ReadAllLines(classesFile).Where(l => l.Length > 0).ToArray()
            : folder.Contains("fashion", StringComparison.OrdinalIgnoreCase) ? FashionMnist.ClassNames
            : Enumerable.Range(0, 10).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        return new DatasetSource(folder, DatasetKind.Idx, classes, new() { ["train"] = [], ["test"] = [] }, splitsGiven: true);
    }

    private static string Existing(string folder, string name)
    {
        foreach (var candidate in new[] { name, name + ".gz" })
            if (File.Exists(System.IO.Path.Combine(folder, candidate))) return System.IO.Path.Combine(folder, candidate);
        throw new FileNotFoundException($"{folder} has no {name} or {name}.gz; expected the four IDX files of Fashion-MNIST or MNIST.");
    }

    private static DatasetSource Folder(string root)
    {
        var subfolders = Visible(Directory.EnumerateDirectories(root)).ToArray();
        string? Sub(params string[] names) => subfolders.FirstOrDefault(d => names.Contains(System.IO.Path.GetFileName(d), StringComparer.OrdinalIgnoreCase));
        string? train = Sub("train"), test = Sub("test"), validation = Sub(ValidationFolderNames);
        if (train is not null)
        {
            var classes = ClassFolders(train);
            var splits = new Dictionary<string, List<ImageEntry>> { ["train"] = Images(train, classes) };
            if (validation is not null) splits["val"] = Images(validation, classes);
            if (test is not null) splits["test"] = Images(test, classes);
            return new DatasetSource(root, DatasetKind.ImageFolder, classes, splits, splitsGiven: true);
        }
        if (subfolders.Length == 0)
        {
            var files = ImageFiles(root).Select(f => new ImageEntry(f, ImageDataset.Unlabeled)).ToList();
            if (files.Count == 0)
                throw new InvalidDataException($"{root} holds no images ({string.Join(", ", ImageDecoder.Extensions)}) and no class folders.");
            return new DatasetSource(root, DatasetKind.UnlabeledFolder, [], new() { ["train"] = files }, splitsGiven: false);
        }
        var all = ClassFolders(root);
        return WithTestShare(root, DatasetKind.ImageFolder, all, Images(root, all));
    }

    private static IEnumerable<string> Visible(IEnumerable<string> paths) =>
        paths.Where(p => !System.IO.Path.GetFileName(p).StartsWith('.')).Order(StringComparer.Ordinal);

    private static string[] ClassFolders(string folder)
    {
        var classes = Visible(Directory.EnumerateDirectories(folder)).Select(d => System.IO.Path.GetFileName(d)!).ToArray();
        if (classes.Length < 2)
            throw new InvalidDataException($"{folder} has {classes.Length} class folder(s) ({string.Join(", ", classes)}); expected one folder per class, at least two.");
        return classes;
    }

    private static IEnumerable<string> ImageFiles(string folder) =>
        Visible(Directory.EnumerateFiles(folder)).Where(f => ImageDecoder.Extensions.Contains(System.IO.Path.GetExtension(f)));

    private static List<ImageEntry> Images(string folder, IReadOnlyList<string> classes)
    {
        var images = new List<ImageEntry>();
        for (int c = 0; c < classes.Count; c++)
        {
            var classFolder = System.IO.Path.Combine(folder, classes[c]);
            if (!Directory.Exists(classFolder))
                throw new InvalidDataException($"{folder} has no folder '{classes[c]}', which the training split uses as a class; every split needs the same class folders.");
            images.AddRange(ImageFiles(classFolder).Select(f => new ImageEntry(f, c)));
        }
        return images;
    }

    // A fixed seeded share of each class becomes the test split; unlabelled images all train.
    private static DatasetSource WithTestShare(string location, DatasetKind kind, IReadOnlyList<string> classes, List<ImageEntry> entries)
    {
        var train = new List<ImageEntry>();
        var test = new List<ImageEntry>();
        var random = new Random(0);
        foreach (var group in entries.GroupBy(e => e.Label).OrderBy(g => g.Key))
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
        return new DatasetSource(location, kind, classes, new() { ["train"] = train, ["test"] = test }, splitsGiven: false);
    }

    private static DatasetSource Manifest(string path, char separator)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length < 2)
            throw new InvalidDataException($"{path}: expected a header 'path{separator}label' and at least one row; found {lines.Length} line(s).");
        var header = lines[0].Split(separator).Select(h => h.Trim().ToLowerInvariant()).ToArray();
        int pathColumn = Array.IndexOf(header, "path"), labelColumn = Array.IndexOf(header, "label"), splitColumn = Array.IndexOf(header, "split");
        if (pathColumn < 0 || labelColumn < 0)
            throw new InvalidDataException($"{path}: header '{lines[0]}' needs columns 'path' and 'label' (and optionally 'split').");
        string folder = System.IO.Path.GetDirectoryName(path)!;
        var rows = new List<(string File, string Label, string? Split)>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var cells = lines[i].Split(separator);
            if (cells.Length != header.Length)
                throw new InvalidDataException($"{path}, line {i + 1}: {cells.Length} columns; the header has {header.Length}.");
            string file = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, cells[pathColumn].Trim()));
            if (!File.Exists(file))
                throw new FileNotFoundException($"{path}, line {i + 1}: image '{cells[pathColumn]}' not found (looked for {file}; paths are relative to the manifest).");
            string? split = splitColumn < 0 ? null : cells[splitColumn].Trim().ToLowerInvariant() switch
            {
                "" => null,
                "validation" or "valid" => "val",
                var s when SplitNames.Contains(s) => s,
                var s => throw new InvalidDataException($"{path}, line {i + 1}: split '{s}'; expected train, val or test."),
            };
            rows.Add((file, cells[labelColumn].Trim(), split));
        }
        var classes = rows.Select(r => r.Label).Where(l => l.Length > 0).Distinct().Order(StringComparer.Ordinal).ToArray();
        if (classes.Length < 2 && rows.Any(r => r.Label.Length > 0))
            throw new InvalidDataException($"{path}: labels name {classes.Length} class ({string.Join(", ", classes)}); expected at least two.");
        var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        ImageEntry Entry((string File, string Label, string? Split) r) => new(r.File, r.Label.Length == 0 ? ImageDataset.Unlabeled : index[r.Label]);
        var kind = classes.Length == 0 ? DatasetKind.UnlabeledFolder : DatasetKind.Manifest;
        if (splitColumn >= 0 && rows.Any(r => r.Split is not null))
        {
            var splits = SplitNames.ToDictionary(s => s, s => rows.Where(r => (r.Split ?? "train") == s).Select(Entry).ToList());
            return new DatasetSource(path, kind, classes, splits, splitsGiven: true);
        }
        return WithTestShare(path, kind, classes, rows.Select(Entry).ToList());
    }
}
