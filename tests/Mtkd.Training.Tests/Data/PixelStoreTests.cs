using Mtkd.Training.Data;

namespace Mtkd.Training.Tests.Data;

/// <summary>Pixel files and datasets over them: what is written is read back, row maps compose, damage is refused by name.</summary>
public sealed class PixelStoreTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("mtkd-pixels-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Bytes_written_are_read_back_through_the_table_and_a_short_file_is_refused(bool preloaded)
    {
        PixelFile.PreloadLimit = preloaded ? PixelFile.PreloadBytes : 0;
        try { BytesRoundTrip(); }
        finally { PixelFile.PreloadLimit = PixelFile.PreloadBytes; }
    }

    private void BytesRoundTrip()
    {
        var path = Path.Combine(root, "p.u8");
        using (var writer = PixelFileWriter.Create(path, PixelElement.UInt8, imageSize: 3, PixelFile.TimesOneOver255))
        {
            writer.Append([0, 1, 255]);
            writer.Append(new[] { 2 * (1f / 255), 0f, 1f }); // floats that are exact 8-bit values are stored as bytes
            Assert.Throws<InvalidDataException>(() => writer.Append(new[] { 0.5f, 0f, 0f })); // 0.5 is no k/255
            Assert.False(File.Exists(path)); // nothing under the final name before Commit
            writer.Commit();
        }
        using var file = PixelFile.Open(path, PixelElement.UInt8, 3, 2, table: PixelFile.TimesOneOver255);
        var values = new float[6];
        file.Read([1, 0], values);
        Assert.Equal(new[] { 2 * (1f / 255), 0f, 1f, 0f, 1f / 255, 1f }, values);
        file.ReadRange(0, 2, values);
        Assert.Equal(new[] { 0f, 1f / 255, 1f, 2 * (1f / 255), 0f, 1f }, values);
        var e = Assert.Throws<InvalidDataException>(() => PixelFile.Open(path, PixelElement.UInt8, 3, 3));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void A_temporary_float_file_outlives_its_name()
    {
        using var writer = PixelFileWriter.CreateTemporary(PixelElement.Float32, imageSize: 2);
        writer.Append(new[] { 0.25f, -3f });
        writer.Append(new[] { 1e-7f, 7f });
        using var store = writer.ToTemporaryStore();
        Assert.False(File.Exists(writer.TemporaryPath)); // unlinked: nothing left behind if the process dies
        var values = new float[4];
        store.ReadRange(0, 2, values);
        Assert.Equal(new[] { 0.25f, -3f, 1e-7f, 7f }, values);
    }

    [Fact]
    public void Subsets_joins_and_relabelling_share_the_store_and_read_the_right_rows()
    {
        var pixels = Enumerable.Range(0, 5 * 4).Select(i => (float)i).ToArray();
        var data = new ImageDataset(pixels, [0, 1, 0, 1, 0], 1, 2, 2, ["a", "b"]);
        var subset = data.Subset([4, 1, 3]);
        Assert.Same(data.Store, subset.Store);
        Assert.Equal(new float[] { 16, 17, 18, 19, 4, 5, 6, 7, 12, 13, 14, 15 }, subset.ReadAllPixels());
        Assert.Equal(new float[] { 4, 5, 6, 7 }, subset.Subset([1]).ReadAllPixels());

        using var writer = PixelFileWriter.CreateTemporary(PixelElement.Float32, 4);
        writer.Append(new float[] { 100, 101, 102, 103 });
        var other = new ImageDataset(writer.ToTemporaryStore(), [ImageDataset.Unlabeled], 1, 2, 2, ["a", "b"]);
        var joined = subset.Concat(other).Concat(data.Subset([0]));
        Assert.Equal([0, 1, 1, ImageDataset.Unlabeled, 0], joined.Labels);
        Assert.Equal(new float[] { 100, 101, 102, 103 }, joined.ReadImage(3));
        Assert.Equal(new float[] { 0, 1, 2, 3 }, joined.ReadImage(4));
        Assert.Equal(new float[] { 12, 13, 14, 15 }, joined.ReadImage(2));
        Assert.Equal(4, joined.LabeledCount);
        Assert.Equal(0, joined.WithoutLabels().LabeledCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Subset([5]));
    }

    [Fact]
    public void Normalization_is_applied_per_channel_as_images_are_read()
    {
        var pixels = new float[] { 0, 0.5f, 1, 1, 0.2f, 0.4f, 0.6f, 0.8f }; // one image, 2 channels of 2×2
        var data = new ImageDataset(pixels, [0], 2, 2, 2, ["a"]);
        var normalized = data.Normalized([0.5f, 0.2f], [0.5f, 0.1f]);
        var expected = new float[] { -1, 0, 1, 1, 0, 2, 4, 6 };
        var actual = normalized.ReadImage(0);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 5);
        Assert.Equal(pixels, data.ReadImage(0)); // the source is untouched
        Assert.Throws<ArgumentException>(() => data.Normalized([0.5f], [0.5f]));
        Assert.Throws<ArgumentException>(() => data.Normalized([0.5f, 0.5f], [0.5f, 0f]));
    }
}
