using System.Text;
using System.Text.Json;

namespace Mtkd.Training.Data;

/// <summary>An image left out of a dataset, and why.</summary>
public sealed record SkippedImage(string Path, string Reason);

/// <summary>A dataset read through the cache: its images, the files left out, and whether the cache was (re)built by this call.</summary>
internal sealed record CachedImages(ImageDataset Images, IReadOnlyList<SkippedImage> Skipped, bool Rebuilt, string CacheDirectory);

/// <summary>
/// Decodes each image once into an on-disk cache of uint8 pixels at the training size (<c>pixels.u8</c>, C×H×W per
/// image) with a manifest (<c>manifest.json</c>: source files with sizes, modification times and labels, class names,
/// format). An unchanged source reuses the cache; a changed one (a file added, removed, rewritten or relabelled, or
/// another size) rebuilds it. Training, scoring and evaluation then read batches from the file (<see cref="PixelFile"/>),
/// so memory does not grow with the dataset. The manifest is written last and removed first, so a cache killed
/// mid-build is rebuilt, never half-read.
/// </summary>
internal static class ImageCache
{
    private const int Version = 1;
    private const string ManifestName = "manifest.json";
    private const string PixelsName = "pixels.u8";

    /// <summary>The cache root: $MTKD_CACHE, else $XDG_CACHE_HOME/mtkd, else ~/.cache/mtkd.</summary>
    public static string DefaultRoot =>
        Environment.GetEnvironmentVariable("MTKD_CACHE") is { Length: > 0 } root ? root
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "mtkd");

    private sealed record SourceFile(string Path, long Length, long ModifiedTicks, int Label);

    private sealed record Manifest(int Version, string Format, string Table, string[] ClassNames, SourceFile[] Files, int[] Labels, SkippedImage[] Skipped);

    /// <summary>The images of <paramref name="entries"/> at <paramref name="format"/>, cached in <paramref name="directory"/>.</summary>
    public static CachedImages LoadImages(string directory, IReadOnlyList<ImageEntry> entries, IReadOnlyList<string> classNames, ImageFormat format, Action<string>? log = null,
        CancellationToken cancellation = default)
    {
        format.Validate();
        var files = entries.Select(e => Describe(e.Path, e.Label)).ToArray();
        return Open(directory, format.ToString(), "b*(1/255)", PixelFile.TimesOneOver255, files, entries.Count, classNames, format.Channels, format.Height, format.Width, log,
            build: writer => Decode(entries, format, writer, log, directory, cancellation));
    }

    /// <summary>IDX images (uint8 already) and labels, copied once into the cache so batches are read from disk like any other source.</summary>
    public static CachedImages LoadIdx(string imagesPath, string labelsPath, IReadOnlyList<string> classNames, string? cacheRoot = null, Action<string>? log = null,
        CancellationToken cancellation = default)
    {
        var files = new[] { Describe(imagesPath, 0), Describe(labelsPath, 0) };
        var directory = Path.Combine(cacheRoot ?? DefaultRoot, Key(Path.GetFullPath(imagesPath), "idx", ""));
        var shape = IdxReader.ReadShape(imagesPath, expectedRank: 3); // the header only: a reused cache decompresses nothing
        int height = shape[1], width = shape[2];
        return Open(directory, $"idx 1x{height}x{width}", "b/255", PixelFile.DividedBy255, files, shape[0], classNames, 1, height, width, log, build: writer =>
        {
            var (images, labels) = IdxReader.ReadLabelledImages(imagesPath, labelsPath, classNames.Count);
            int size = height * width;
            for (int i = 0; i < labels.Length; i++)
            {
                if (i % 4096 == 0) Stopped(cancellation, i, labels.Length, directory);
                writer.Append(images.Data.AsSpan(i * size, size));
            }
            return (labels, []);
        });
    }

    private static SourceFile Describe(string path, int label)
    {
        var info = new FileInfo(path);
        return info.Exists ? new SourceFile(info.FullName, info.Length, info.LastWriteTimeUtc.Ticks, label)
            : throw new FileNotFoundException($"Image '{path}' not found.");
    }

    internal static string Key(string location, string split, string format) =>
        Engine.ContentHash.Of(Encoding.UTF8.GetBytes($"{location}|{split}|{format}"));

    // Writes the pixels; returns the label of each image written and the files left out.
    private delegate (int[] Labels, SkippedImage[] Skipped) Build(PixelFileWriter writer);

    private static CachedImages Open(string directory, string format, string table, float[] lut, SourceFile[] files, int imageCount, IReadOnlyList<string> classNames,
        int channels, int height, int width, Action<string>? log, Build build)
    {
        string manifestPath = Path.Combine(directory, ManifestName), pixelsPath = Path.Combine(directory, PixelsName);
        int imageSize = channels * height * width;
        Directory.CreateDirectory(directory);
        using var exclusive = Lock(directory); // two processes on one cache: one builds, the other waits and reuses
        var manifest = ReadManifest(manifestPath);
        bool reuse = manifest is not null && manifest.Version == Version && manifest.Format == format && manifest.Table == table
            && manifest.ClassNames.SequenceEqual(classNames) && manifest.Files.SequenceEqual(files) && File.Exists(pixelsPath);
        if (!reuse)
        {
            // The cache is written whole: refused before the first byte when the disk cannot hold it.
            long bytes = (long)imageCount * imageSize, free = DiskSpace.Free(directory);
            if (bytes > free)
                throw new IOException($"The image cache {directory} needs about {DiskSpace.Size(bytes)} for {imageCount:N0} images of {channels}x{height}x{width}, " +
                    $"and its disk has {DiskSpace.Size(free)} free; free some space, or put the cache on a larger disk (--cache DIR or MTKD_CACHE).");
            foreach (var stale in Directory.EnumerateFiles(directory, "*.tmp")) File.Delete(stale);
            if (File.Exists(manifestPath)) File.Delete(manifestPath); // pixels and manifest must never disagree
            log?.Invoke(manifest is null ? $"Decoding {files.Length:N0} files into the cache " +
                $"{directory}." : $"The data changed since the cache was built ({Difference(manifest, files, format)}); rebuilding {directory}.");
            using var writer = PixelFileWriter.Create(pixelsPath, PixelElement.UInt8, imageSize, lut);
            var (labels, skipped) = build(writer);
            writer.Commit();
            manifest = new Manifest(Version, format, table, [.. classNames], files, labels, skipped);
            AtomicFile.WriteAllText(manifestPath, JsonSerializer.Serialize(manifest));
        }
        var store = PixelFile.Open(pixelsPath, PixelElement.UInt8, imageSize, manifest!.Labels.Length, table: lut);
        return new CachedImages(new ImageDataset(store, manifest.Labels, channels, height, width, classNames), manifest.Skipped, !reuse, directory);
    }

    private static FileStream Lock(string directory)
    {
        string path = Path.Combine(directory, ".lock");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (clock.Elapsed < TimeSpan.FromHours(1))
            {
                Thread.Sleep(100);
            }
        }
    }

    private static Manifest? ReadManifest(string path)
    {
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<Manifest>(File.ReadAllText(path)); }
        catch (JsonException) { return null; } // unreadable: rebuilt like a changed one
    }

    private static string Difference(Manifest old, SourceFile[] files, string format)
    {
        if (old.Format != format) return $"format {old.Format} → {format}";
        var before = old.Files.ToDictionary(f => f.Path);
        var now = files.ToDictionary(f => f.Path);
        if (files.FirstOrDefault(f => !before.ContainsKey(f.Path)) is { } added) return $"{added.Path} is new";
        if (old.Files.FirstOrDefault(f => !now.ContainsKey(f.Path)) is { } removed) return $"{removed.Path} is gone";
        if (files.FirstOrDefault(f => before[f.Path] != f) is { } changed) return $"{changed.Path} changed";
        return "class names or order changed";
    }

    // A stop while the cache is built: the writer's temporary file goes with it, and the manifest was removed first, so
    // the next run builds the cache again.
    private static void Stopped(CancellationToken cancellation, int done, int total, string directory)
    {
        if (cancellation.IsCancellationRequested)
            throw new OperationCanceledException($"the run stopped while building the image cache {directory} ({done:N0} of {total:N0} images); " +
                "nothing of it was kept, and the next run builds it again.", cancellation);
    }

    // Decoded in parallel blocks, written in order: the cache is the same whatever the thread count.
    private static (int[] Labels, SkippedImage[] Skipped) Decode(IReadOnlyList<ImageEntry> entries, ImageFormat format, PixelFileWriter writer, Action<string>? log,
        string directory, CancellationToken cancellation)
    {
        const int block = 64;
        int size = format.ImageSize;
        var buffer = new byte[block * size];
        var problems = new string?[block];
        var kept = new List<int>();
        var skipped = new List<SkippedImage>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int start = 0; start < entries.Count; start += block)
        {
            Stopped(cancellation, start, entries.Count, directory);
            int n = Math.Min(block, entries.Count - start);
            Parallel.For(0, n, i => problems[i] = ImageDecoder.TryDecode(entries[start + i].Path, format, buffer.AsSpan(i * size, size)));
            for (int i = 0; i < n; i++)
            {
                if (problems[i] is { } problem)
                {
                    skipped.Add(new SkippedImage(entries[start + i].Path, problem));
                    continue;
                }
                writer.Append(buffer.AsSpan(i * size, size));
                kept.Add(entries[start + i].Label);
            }
            if (clock.Elapsed.TotalSeconds >= 10 && start + n < entries.Count)
            {
                log?.Invoke($"  {start + n:N0} of {entries.Count:N0} images decoded");
                clock.Restart();
            }
        }
        return (kept.ToArray(), skipped.ToArray());
    }
}
