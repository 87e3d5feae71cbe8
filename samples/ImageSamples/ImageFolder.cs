using Mtkd.Training.Data;

namespace Mtkd.Samples.Images;

/// <summary>One image file and its class (the name of the folder it sits in).</summary>
public sealed record LabelledImage(string Path, string Label);

/// <summary>The images of one run, split three ways, with the files that were left out.</summary>
public sealed record ImageSplits(
    IReadOnlyList<LabelledImage> Train, IReadOnlyList<LabelledImage> Validation, IReadOnlyList<LabelledImage> Test,
    IReadOnlyList<string> Classes, IReadOnlyList<SkippedImage> Skipped, bool SplitsGiven);

/// <summary>
/// Reads an image-classification folder: <c>ROOT/&lt;class&gt;/*.jpg|png</c>, split by a seeded shuffle within each class,
/// or <c>ROOT/train|val|test/&lt;class&gt;/...</c> when the splits are given (a missing <c>val</c> is held out of <c>train</c>).
/// Every file is checked with <see cref="ImageCheck"/> first, so a bad file is named and left out rather than
/// failing the pipeline later or being read as something it is not.
/// </summary>
public static class ImageFolder
{
    private static readonly string[] Extensions = [".jpg", ".jpeg", ".png"];
    private static readonly string[] ValidationNames = ["val", "validation", "valid"];

    /// <param name="root">The folder.</param>
    /// <param name="check">Which images are fit to use.</param>
    /// <param name="validationFraction">Share of each class held out for validation (and, without given splits, the same share for testing).</param>
    /// <param name="seed">Seed of the shuffle.</param>
    /// <param name="ignore">Folders that are never classes or splits, such as a run's output folder placed inside the image folder.</param>
    public static ImageSplits Load(string root, ImageCheck check, double validationFraction, int seed, IEnumerable<string>? ignore = null)
    {
        var ignored = (ignore ?? []).Select(Normalized).ToHashSet();
        IEnumerable<string> Folders(string parent) => Directory.EnumerateDirectories(parent).Where(d => !ignored.Contains(Normalized(d)));
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"Image folder '{root}' does not exist; expected ROOT/<class>/*.jpg|png or ROOT/train|val|test/<class>/*.jpg|png.");
        if (validationFraction is <= 0 or >= 0.5)
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "The validation share must be in (0, 0.5).");
        var skipped = new List<SkippedImage>();
        string? Sub(string name) => Folders(root).FirstOrDefault(d => string.Equals(Path.GetFileName(d), name, StringComparison.OrdinalIgnoreCase));
        string[] Classes(string folder) => ClassNames(folder, Folders(folder));
        string? trainDir = Sub("train"), testDir = Sub("test");
        if (trainDir is not null && testDir is not null)
        {
            var classes = Classes(trainDir);
            var train = Read(trainDir, classes, check, skipped);
            var test = Read(testDir, classes, check, skipped);
            var validationDir = ValidationNames.Select(Sub).FirstOrDefault(d => d is not null);
            var validation = validationDir is not null ? Read(validationDir, classes, check, skipped) : [];
            if (validationDir is null)
                (train, validation) = Split(train, validationFraction, seed);
            return new ImageSplits(train, validation, test, classes, skipped, SplitsGiven: true);
        }
        var allClasses = Classes(root);
        var all = Read(root, allClasses, check, skipped);
        var (rest, heldOut) = Split(all, 2 * validationFraction, seed);
        var (validationPart, testPart) = Split(heldOut, 0.5, seed + 1);
        return new ImageSplits(rest, validationPart, testPart, allClasses, skipped, SplitsGiven: false);
    }

    private static string Normalized(string folder) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));

    private static string[] ClassNames(string folder, IEnumerable<string> subfolders)
    {
        var classes = subfolders.Select(Path.GetFileName).OfType<string>()
            .Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToArray();
        if (classes.Length < 2)
            throw new InvalidDataException($"'{folder}' has {classes.Length} class folder(s) ({string.Join(", ", classes)}); expected one folder per class, at least two.");
        return classes;
    }

    // Files in class order, then by name, so a run sees them in the same order on every machine.
    private static List<LabelledImage> Read(string folder, IReadOnlyList<string> classes, ImageCheck check, List<SkippedImage> skipped)
    {
        var images = new List<LabelledImage>();
        foreach (var name in classes)
        {
            var classDir = Path.Combine(folder, name);
            if (!Directory.Exists(classDir))
                throw new InvalidDataException($"'{folder}' has no folder '{name}', which '{Path.GetDirectoryName(folder)}' uses as a class; every split needs the same class folders.");
            foreach (var file in Directory.EnumerateFiles(classDir).Order(StringComparer.Ordinal))
            {
                if (!Extensions.Contains(Path.GetExtension(file).ToLowerInvariant()))
                {
                    skipped.Add(new SkippedImage(file, "not a .jpg, .jpeg or .png file"));
                    continue;
                }
                if (check.Problem(file) is { } problem)
                    skipped.Add(new SkippedImage(file, problem));
                else
                    images.Add(new LabelledImage(file, name));
            }
        }
        foreach (var name in classes)
            if (!images.Any(i => i.Label == name))
                throw new InvalidDataException($"Class folder '{Path.Combine(folder, name)}' has no usable image.");
        return images;
    }

    /// <summary>A seeded split within each class: round(share × class size) images go to the second list, the rest to the first.</summary>
    public static (List<LabelledImage> Kept, List<LabelledImage> HeldOut) Split(IReadOnlyList<LabelledImage> images, double share, int seed)
    {
        var kept = new List<LabelledImage>();
        var heldOut = new List<LabelledImage>();
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
}
