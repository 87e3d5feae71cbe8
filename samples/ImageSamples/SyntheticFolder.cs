using System.Globalization;

namespace Mtkd.Samples.Images;

/// <summary>
/// Puts a sample's synthetic images on disk as an ordinary image folder, so they take exactly the path real images
/// take. The folder is drawn once per (drawing version, count, seed, size) and reused while its manifest matches.
/// </summary>
public static class SyntheticFolder
{
    private const string ManifestName = "SYNTHETIC.txt";

    /// <summary>Whether <paramref name="root"/> holds images a sample drew (its manifest is there).</summary>
    public static bool IsDrawn(string root) => File.Exists(Path.Combine(root, ManifestName));

    public static string Ensure(string root, SampleDefinition sample, int perClass, int seed)
    {
        string manifest = string.Create(CultureInfo.InvariantCulture,
            $"""
            SYNTHETIC IMAGES: procedurally drawn by the {sample.Name} sample, not photographs.
            {sample.Synthetic.Description}
            drawing version {sample.Synthetic.Version}; {perClass} images per class; seed {seed}; {sample.Width}x{sample.Height} pixels
            classes: {sample.NegativeClass}, {sample.PositiveClass}

            """);
        var manifestPath = Path.Combine(root, ManifestName);
        if (File.Exists(manifestPath) && File.ReadAllText(manifestPath) == manifest)
            return root;
        // Only a folder this sample drew is ever replaced.
        if (Directory.Exists(root) && !File.Exists(manifestPath) && Directory.EnumerateFileSystemEntries(root).Any())
            throw new IOException($"'{root}' exists and holds no {ManifestName}, so it was not drawn by a sample; move it, or choose another --out.");

        // Drawn into a fresh folder and renamed into place, so an interrupted run never leaves a half-drawn set that looks complete.
        string staging = root.TrimEnd(Path.DirectorySeparatorChar) + ".drawing";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        foreach (var (label, positive) in new[] { (sample.NegativeClass, false), (sample.PositiveClass, true) })
        {
            var folder = Directory.CreateDirectory(Path.Combine(staging, label)).FullName;
            Parallel.For(0, perClass, i =>
            {
                var (bytes, extension) = sample.Synthetic.Draw(positive, i, seed, sample.Height, sample.Width);
                File.WriteAllBytes(Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"synthetic-{label}-{i:D5}{extension}")), bytes);
            });
        }
        File.WriteAllText(Path.Combine(staging, ManifestName), manifest);
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        Directory.Move(staging, root);
        return root;
    }
}
