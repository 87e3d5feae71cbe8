using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using Mtkd.Training.Data;

namespace Mtkd.Training.Tests.Data;

/// <summary>The decoded-pixel cache: built once, reused while the files stay, rebuilt when one changes; bad files reported.</summary>
public sealed class ImageCacheTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("mtkd-cache-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static readonly ImageFormat Format = new(3, 16, 20);

    private (DatasetSource Source, string Cache) Folder(int perClass = 6)
    {
        var images = Path.Combine(root, "images");
        SyntheticImageFiles.WriteFolder(images, ["a", "b"], perClass);
        return (DatasetSource.Resolve(images), Path.Combine(root, "cache"));
    }

    [Fact]
    public void Unchanged_files_reuse_the_cache_and_a_changed_one_rebuilds_it()
    {
        var (source, cache) = Folder();
        var first = source.LoadCached("train", Format, cache);
        Assert.True(first.Rebuilt);
        Assert.Equal(Files(source, "train").Select(e => e.Label), first.Images.Labels);
        var pixels = first.Images.ReadAllPixels();
        Assert.All(pixels, v => Assert.InRange(v, 0f, 1f));

        var messages = new List<string>();
        var second = DatasetSource.Resolve(source.Location).LoadCached("train", Format, cache, log: messages.Add);
        Assert.False(second.Rebuilt);
        Assert.Empty(messages);
        Assert.Equal(pixels, second.Images.ReadAllPixels());

        var changed = Files(source, "train")[3].Path;
        SyntheticImageFiles.WritePng(changed, 30, 30, 1, seed: 99);
        File.SetLastWriteTimeUtc(changed, DateTime.UtcNow.AddMinutes(1));
        var third = DatasetSource.Resolve(source.Location).LoadCached("train", Format, cache, log: messages.Add);
        Assert.True(third.Rebuilt);
        Assert.Contains(changed, Assert.Single(messages));
        Assert.NotEqual(pixels.AsSpan(3 * Format.ImageSize, Format.ImageSize).ToArray(), third.Images.ReadImage(3));
        Assert.Equal(pixels.AsSpan(0, Format.ImageSize).ToArray(), third.Images.ReadImage(0));

        Assert.True(source.LoadCached("train", Format with { Height = 12 }, cache).Rebuilt); // another size is another cache
    }

    [Fact]
    public void A_stop_while_the_cache_is_built_keeps_nothing_and_the_next_load_builds_it()
    {
        var (source, cache) = Folder();
        using var stop = new CancellationTokenSource();
        stop.Cancel();
        var e = Assert.Throws<OperationCanceledException>(() => source.Load("train", Format, cache, cancellation: stop.Token));
        Assert.Contains("while building the image cache", e.Message);
        var folder = Assert.Single(Directory.GetDirectories(cache));
        Assert.Equal([".lock"], Directory.EnumerateFiles(folder).Select(Path.GetFileName)); // no pixels, no manifest, no temporary file
        Assert.True(source.LoadCached("train", Format, cache).Rebuilt);
    }

    [Fact]
    public void A_cache_the_disk_cannot_hold_is_refused_before_a_byte_is_written()
    {
        var (source, cache) = Folder();
        var real = DiskSpace.Free;
        DiskSpace.Free = _ => 1_000; // a disk with 1,000 bytes free: not two images of 3×16×20
        try
        {
            var e = Assert.Throws<IOException>(() => source.Load("train", Format, cache));
            Assert.Contains("needs about", e.Message);
            Assert.Contains("--cache DIR", e.Message);
            var folder = Assert.Single(Directory.GetDirectories(cache));
            Assert.Equal([".lock"], Directory.EnumerateFiles(folder).Select(Path.GetFileName));
        }
        finally
        {
            DiskSpace.Free = real;
        }
    }

    [Fact]
    public void A_file_that_does_not_decode_is_named_and_left_out()
    {
        var (source, cache) = Folder();
        var bad = Path.Combine(source.Location, "b", "zz-broken.png");
        SyntheticImageFiles.WriteTruncated(bad);
        File.WriteAllText(Path.Combine(source.Location, "a", "zz-text.png"), "this is not a PNG");
        source = DatasetSource.Resolve(source.Location);
        var all = Files(source, "train").Concat(Files(source, "test")).ToArray();
        var cached = ImageCache.LoadImages(Path.Combine(cache, "all"), all, source.ClassNames, Format);
        Assert.Equal(2, cached.Skipped.Count);
        Assert.Contains(cached.Skipped, s => s.Path == bad && s.Reason.Contains("damaged", StringComparison.Ordinal));
        Assert.Contains(cached.Skipped, s => s.Path.EndsWith("zz-text.png", StringComparison.Ordinal) && s.Reason.Contains("cannot be decoded", StringComparison.Ordinal));
        Assert.Equal(all.Length - 2, cached.Images.Count);
        Assert.Equal(2, ImageCache.LoadImages(Path.Combine(cache, "all"), all, source.ClassNames, Format).Skipped.Count); // kept in the manifest on reuse
    }

    [Fact]
    public void Idx_through_the_cache_gives_the_in_memory_loader_s_pixels_bit_for_bit()
    {
        if (!Directory.Exists(FashionMnist.DefaultDirectory)) return; // the CI installs it; the assertion below needs the real files
        var source = DatasetSource.Resolve("fashion-mnist");
        var cached = source.LoadCached("test", Format, Path.Combine(root, "cache")).Images;
        var inMemory = FashionMnist.Load(DataSplit.Test);
        Assert.Equal(inMemory.Labels, cached.Labels);
        Assert.Equal(inMemory.Take(500).ReadAllPixels(), cached.Take(500).ReadAllPixels());
        Assert.Equal(inMemory.ReadImage(9999), cached.ReadImage(9999));
    }

    [Theory]
    [InlineData(ResizeMode.Fill, ImageResizingEstimator.ResizingKind.Fill)]
    [InlineData(ResizeMode.Pad, ImageResizingEstimator.ResizingKind.IsoPad)]
    [InlineData(ResizeMode.Crop, ImageResizingEstimator.ResizingKind.IsoCrop)]
    public void Decoded_pixels_equal_ML_NET_s_LoadImages_ResizeImages_ExtractPixels(ResizeMode mode, ImageResizingEstimator.ResizingKind kind)
    {
        var (source, cache) = Folder(perClass: 4);
        var entries = Files(source, "train");
        var format = Format with { Resize = mode };
        var cached = ImageCache.LoadImages(Path.Combine(cache, mode.ToString()), entries, source.ClassNames, format).Images;

        var ml = new MLContext(1);
        var files = ml.Data.LoadFromEnumerable(entries.Select(e => new ImageFile { Path = e.Path }));
        var pipeline = ml.Transforms.LoadImages("Image", "", nameof(ImageFile.Path))
            .Append(ml.Transforms.ResizeImages("Image", format.Width, format.Height, resizing: kind))
            .Append(ml.Transforms.ExtractPixels("Features", "Image", scaleImage: 1f / 255));
        var expected = pipeline.Fit(files).Transform(files).GetColumn<float[]>("Features").ToArray();
        for (int i = 0; i < entries.Count; i++)
            Assert.Equal(expected[i], cached.ReadImage(i));
    }

    [Fact]
    public void Grey_is_the_luma_of_the_colour_pixels()
    {
        // Not ML.NET's ConvertToGrayscale: 5.0.1 applies its 0.3/0.59/0.11 matrix to BGRA bytes as if they were RGBA,
        // weighing blue as red (a pure blue pixel comes out 0.28, not 0.11); grey models here use the weights as meant.
        var (source, cache) = Folder(perClass: 2);
        var entries = Files(source, "train");
        var rgb = ImageCache.LoadImages(Path.Combine(cache, "rgb"), entries, source.ClassNames, new ImageFormat(3, 12, 14)).Images;
        var grey = ImageCache.LoadImages(Path.Combine(cache, "grey"), entries, source.ClassNames, new ImageFormat(1, 12, 14)).Images;
        int plane = 12 * 14;
        for (int i = 0; i < entries.Count; i++)
        {
            var colour = rgb.ReadImage(i);
            var g = grey.ReadImage(i);
            for (int p = 0; p < plane; p++)
                Assert.InRange(g[p] - (0.3 * colour[p] + 0.59 * colour[plane + p] + 0.11 * colour[2 * plane + p]), -1.01 / 255, 1.01 / 255);
        }
    }

    private sealed class ImageFile
    {
        public string Path { get; set; } = "";
    }

    private static IReadOnlyList<ImageEntry> Files(DatasetSource source, string split) => ((ImageFileSource)source).Files(split);
}
