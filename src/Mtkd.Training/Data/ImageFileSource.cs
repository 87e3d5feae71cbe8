namespace Mtkd.Training.Data;

/// <summary>One image file and its class index (<see cref="ImageDataset.Unlabeled"/> for none).</summary>
public sealed record ImageEntry(string Path, int Label);

/// <summary>
/// Image files: a folder of class folders (<c>ROOT/&lt;class&gt;/*.png</c>), of split folders
/// (<c>ROOT/{train,val,test}/&lt;class&gt;/…</c>), a folder of images without class folders (unlabelled), or a CSV/TSV
/// manifest of <c>path,label[,split]</c> (paths relative to the file, an empty label for an unlabelled image).
/// </summary>
public sealed class ImageFileSource : DatasetSource
{
    private static readonly string[] ValidationFolderNames = ["val", "validation", "valid"];
    private readonly Dictionary<string, List<ImageEntry>> splits;

    private ImageFileSource(string location, IReadOnlyList<string> classNames, Dictionary<string, List<ImageEntry>> splits, bool splitsGiven,
        IReadOnlyList<SkippedImage>? skipped = null)
        : base(location, classNames, splitsGiven)
    {
        this.splits = splits;
        Skipped = skipped ?? [];
    }

    /// <summary>Files <see cref="SplitOptions.Check"/> refused (or of another extension), left out before splitting.</summary>
    public IReadOnlyList<SkippedImage> Skipped { get; }

    internal static DatasetSource? TryResolve(string data, string flag, SplitOptions? split)
    {
        split?.Validate();
        string full = System.IO.Path.GetFullPath(data);
        if (File.Exists(full))
        {
            string extension = System.IO.Path.GetExtension(full).ToLowerInvariant();
            if (extension is ".csv" or ".tsv" or ".txt")
                return Manifest(full, extension == ".tsv" ? '\t' : ',', split);
            throw new ArgumentException($"{flag} {data}: a file must be a .csv or .tsv manifest of path,label; to use a folder of images, give the folder.");
        }
        return Directory.Exists(full) ? Folder(full, split) : null;
    }

    public override bool HasSplit(string split) => splits.TryGetValue(CheckSplit(split), out var entries) && entries.Count > 0;

    /// <summary>The image files of one split, in a stable order (class, then file name).</summary>
    public IReadOnlyList<ImageEntry> Files(string split) =>
        splits.TryGetValue(CheckSplit(split), out var entries) ? entries
            : throw new ArgumentException($"{Location} has no {split} split (it has {string.Join(", ", splits.Where(s => s.Value.Count > 0).Select(s => s.Key))}).");

    internal override CachedImages LoadCached(string split, ImageFormat format, string? cacheRoot = null, IReadOnlyList<string>? classNames = null, Action<string>? log = null, CancellationToken cancellation = default)
    {
        format.Validate();
        var key = ImageCache.Key(Location, split, format.ToString());
        return ImageCache.LoadImages(System.IO.Path.Combine(cacheRoot ?? ImageCache.DefaultRoot, key), Files(split), classNames ?? ClassNames, format, log, cancellation);
    }

    private static DatasetSource Folder(string root, SplitOptions? split)
    {
        var ignored = (split?.IgnoredFolders ?? []).Select(f => System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(f))).ToHashSet();
        var subfolders = Visible(Directory.EnumerateDirectories(root)).Where(d => !ignored.Contains(System.IO.Path.TrimEndingDirectorySeparator(d))).ToArray();
        var skipped = new List<SkippedImage>();
        List<ImageEntry> Images(string folder, IReadOnlyList<string> classes) => ImagesIn(folder, classes, split, skipped);
        string? Sub(params string[] names) => subfolders.FirstOrDefault(d => names.Contains(System.IO.Path.GetFileName(d), StringComparer.OrdinalIgnoreCase));
        string? train = Sub("train"), test = Sub("test"), validation = Sub(ValidationFolderNames);
        if (train is not null)
        {
            var classes = ClassFolders(train);
            // A class folder only another split has would be dropped from it unseen: refused, as a manifest's unknown label is.
            foreach (var other in new[] { validation, test }.OfType<string>())
                if (ClassFolders(other, minimum: 0).FirstOrDefault(c => !classes.Contains(c)) is { } extra)
                    throw new InvalidDataException($"{other} has a class folder '{extra}' that {train} lacks; every split needs the same class folders " +
                        $"({string.Join(", ", classes)}).");
            var splits = new Dictionary<string, List<ImageEntry>> { ["train"] = Images(train, classes) };
            if (validation is not null) splits["val"] = Images(validation, classes);
            if (test is not null) splits["test"] = Images(test, classes);
            if (split is not null && validation is null && test is not null)
                (splits["train"], splits["val"]) = ShareOf(splits["train"], split.ValidationFraction, split.Seed);
            return new ImageFileSource(root, classes, splits, splitsGiven: true, skipped);
        }
        if (subfolders.Length == 0)
        {
            var files = ImageFiles(root).Select(f => new ImageEntry(f, ImageDataset.Unlabeled)).ToList();
            if (files.Count == 0)
                throw new InvalidDataException($"{root} holds no images ({string.Join(", ", ImageDecoder.Extensions)}) and no class folders.");
            return new ImageFileSource(root, [], new() { ["train"] = files }, splitsGiven: false);
        }
        var all = ClassFolders(root, ignored);
        return split is null ? WithTestShare(root, all, Images(root, all)) : ThreeWay(root, all, Images(root, all), split, skipped);
    }

    private static IEnumerable<string> Visible(IEnumerable<string> paths) =>
        paths.Where(p => !System.IO.Path.GetFileName(p).StartsWith('.')).Order(StringComparer.Ordinal);

    private static string[] ClassFolders(string folder, IReadOnlySet<string>? ignored = null, int minimum = 2)
    {
        var classes = Visible(Directory.EnumerateDirectories(folder)).Where(d => ignored?.Contains(System.IO.Path.TrimEndingDirectorySeparator(d)) != true)
            .Select(d => System.IO.Path.GetFileName(d)!).ToArray();
        if (classes.Length < minimum)
            throw new InvalidDataException($"{folder} has {classes.Length} class folder(s) ({string.Join(", ", classes)}); expected one folder per class, at least two.");
        return classes;
    }

    private static IEnumerable<string> ImageFiles(string folder) =>
        Visible(Directory.EnumerateFiles(folder)).Where(f => ImageDecoder.Extensions.Contains(System.IO.Path.GetExtension(f)));

    // Files in class order, then by name, so a run sees them in the same order on every machine; with split options,
    // files of other extensions and files the check refuses are left out (and listed), and every class needs one.
    private static List<ImageEntry> ImagesIn(string folder, IReadOnlyList<string> classes, SplitOptions? split, List<SkippedImage> skipped)
    {
        var images = new List<ImageEntry>();
        for (int c = 0; c < classes.Count; c++)
        {
            var classFolder = System.IO.Path.Combine(folder, classes[c]);
            if (!Directory.Exists(classFolder))
                throw new InvalidDataException($"{folder} has no folder '{classes[c]}', which the training split uses as a class; every split needs the same class folders.");
            if (split is null)
            {
                images.AddRange(ImageFiles(classFolder).Select(f => new ImageEntry(f, c)));
                continue;
            }
            IReadOnlyCollection<string> extensions = split.Extensions ?? (IReadOnlyCollection<string>)ImageDecoder.Extensions;
            int before = images.Count;
            foreach (var file in Directory.EnumerateFiles(classFolder).Order(StringComparer.Ordinal))
            {
                if (!extensions.Contains(System.IO.Path.GetExtension(file).ToLowerInvariant()))
                    skipped.Add(new SkippedImage(file, $"not a {string.Join(", ", extensions)} file"));
                else if (split.Check?.Invoke(file) is { } problem)
                    skipped.Add(new SkippedImage(file, problem));
                else
                    images.Add(new ImageEntry(file, c));
            }
            if (images.Count == before)
                throw new InvalidDataException($"Class folder '{classFolder}' has no usable image.");
        }
        return images;
    }

    // The three-way split of SplitOptions: within each class (one shuffle stream), round((v + t)·n) held out, then
    // round(t / (v + t)·held) of those for testing (a second stream), the rest validation.
    private static ImageFileSource ThreeWay(string location, IReadOnlyList<string> classes, List<ImageEntry> entries, SplitOptions split, List<SkippedImage> skipped)
    {
        double held = split.ValidationFraction + split.TestFraction;
        var (train, heldOut) = ShareOf(entries, held, split.Seed);
        var (validation, test) = ShareOf(heldOut, split.TestFraction / held, split.Seed + 1);
        return new ImageFileSource(location, classes, new() { ["train"] = train, ["val"] = validation, ["test"] = test }, splitsGiven: false, skipped);
    }

    /// <summary>A seeded share of each class: round(share × class size) images go to the second list, the rest to the first, each in the order drawn.</summary>
    private static (List<ImageEntry> Kept, List<ImageEntry> HeldOut) ShareOf(IReadOnlyList<ImageEntry> images, double share, int seed)
    {
        var kept = new List<ImageEntry>();
        var heldOut = new List<ImageEntry>();
        var random = new Random(seed);
        foreach (var group in images.GroupBy(i => i.Label))
        {
            var members = group.ToArray();
            random.Shuffle(members);
            int held = (int)Math.Round(share * members.Length);
            heldOut.AddRange(members[..held]);
            kept.AddRange(members[held..]);
        }
        return (kept, heldOut);
    }

    // A fixed seeded share of each class becomes the test split; unlabelled images all train.
    private static ImageFileSource WithTestShare(string location, IReadOnlyList<string> classes, List<ImageEntry> entries)
    {
        var (train, test) = TestShare(entries, e => e.Label);
        return new ImageFileSource(location, classes, new() { ["train"] = train, ["test"] = test }, splitsGiven: false);
    }

    private static ImageFileSource Manifest(string path, char separator, SplitOptions? options)
    {
        var records = CsvRecords.Read(path, separator);
        if (records.Count < 2)
            throw new InvalidDataException($"{path}: expected a header 'path{separator}label' and at least one row; found {records.Count} line(s).");
        var header = records[0].Fields.Select(h => h.Trim().ToLowerInvariant()).ToArray();
        int pathColumn = Array.IndexOf(header, "path"), labelColumn = Array.IndexOf(header, "label"), splitColumn = Array.IndexOf(header, "split");
        if (pathColumn < 0 || labelColumn < 0)
            throw new InvalidDataException($"{path}: header '{string.Join(separator, records[0].Fields)}' needs columns 'path' and 'label' (and optionally 'split').");
        string folder = System.IO.Path.GetDirectoryName(path)!;
        var rows = new List<(string File, string Label, string? Split)>();
        foreach (var (line, cells) in records.Skip(1))
        {
            if (cells.Length != header.Length)
                throw new InvalidDataException($"{path}, line {line}: {cells.Length} columns; the header has {header.Length} (quote a field that holds '{separator}').");
            string file = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, cells[pathColumn].Trim()));
            if (!File.Exists(file))
                throw new FileNotFoundException($"{path}, line {line}: image '{cells[pathColumn]}' not found (looked for {file}; paths are relative to the manifest).");
            string? split = splitColumn < 0 ? null : cells[splitColumn].Trim().ToLowerInvariant() switch
            {
                "" => null,
                "validation" or "valid" => "val",
                var s when SplitNames.Contains(s) => s,
                var s => throw new InvalidDataException($"{path}, line {line}: split '{s}'; expected train, val or test."),
            };
            rows.Add((file, cells[labelColumn].Trim(), split));
        }
        var classes = rows.Select(r => r.Label).Where(l => l.Length > 0).Distinct().Order(StringComparer.Ordinal).ToArray();
        if (classes.Length < 2 && rows.Any(r => r.Label.Length > 0))
            throw new InvalidDataException($"{path}: labels name {classes.Length} class ({string.Join(", ", classes)}); expected at least two.");
        var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
        ImageEntry Entry((string File, string Label, string? Split) r) => new(r.File, r.Label.Length == 0 ? ImageDataset.Unlabeled : index[r.Label]);
        if (splitColumn >= 0 && rows.Any(r => r.Split is not null))
        {
            var splits = SplitNames.ToDictionary(s => s, s => rows.Where(r => (r.Split ?? "train") == s).Select(Entry).ToList());
            return new ImageFileSource(path, classes, splits, splitsGiven: true);
        }
        return options is null || classes.Length == 0 ? WithTestShare(path, classes, rows.Select(Entry).ToList())
            : ThreeWay(path, classes, rows.Select(Entry).ToList(), options, []);
    }
}
