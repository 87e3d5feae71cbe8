using System.IO.Compression;
using Mtkd.Training.Data;

namespace Mtkd.Training.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-idx-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static byte[] Idx(int[] dims, byte[] data)
    {
        var bytes = new List<byte> { 0, 0, 0x08, (byte)dims.Length };
        foreach (var d in dims)
            bytes.AddRange([(byte)(d >> 24), (byte)(d >> 16), (byte)(d >> 8), (byte)d]);
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    private string WriteGz(string name, byte[] content)
    {
        var path = Path.Combine(directory, name);
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        gz.Write(content);
        return path;
    }

    [Fact]
    public void ReadsDimensionsAndBytesOfAGzippedFile()
    {
        var data = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)i).ToArray();
        var path = WriteGz("images.gz", Idx([2, 3, 4], data));

        var array = IdxReader.Read(path, expectedRank: 3);

        Assert.Equal([2, 3, 4], array.Dimensions);
        Assert.Equal(data, array.Data);
    }

    [Fact]
    public void TruncatedPayloadNamesTheFileAndWhatWasMissing()
    {
        var path = WriteGz("short.gz", Idx([10, 2, 2], new byte[39]));

        var error = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path, expectedRank: 3, hint: "Install it with: apt-get install dataset-fashion-mnist"));

        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
        Assert.Contains("39 of the 40", error.Message);
        Assert.Contains("dataset-fashion-mnist", error.Message);
    }

    [Fact]
    public void CutOffGzipStreamNamesTheFile()
    {
        var full = WriteGz("full.gz", Idx([100], Enumerable.Range(0, 100).Select(i => (byte)(i * 7)).ToArray()));
        var bytes = File.ReadAllBytes(full);
        var cut = Path.Combine(directory, "cut.gz");
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);

        var error = Assert.Throws<InvalidDataException>(() => IdxReader.Read(cut, expectedRank: 1));

        Assert.Contains(cut, error.Message);
    }

    [Fact]
    public void WrongRankIsRefused()
    {
        var path = WriteGz("labels.gz", Idx([5], new byte[5]));

        var error = Assert.Throws<InvalidDataException>(() => IdxReader.Read(path, expectedRank: 3));

        Assert.Contains("rank 1, expected 3", error.Message);
    }

    [Fact]
    public void MissingFashionMnistNamesTheFileAndThePackage()
    {
        var error = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(DataSplit.Test, directory));

        Assert.Contains(Path.Combine(directory, "t10k-images-idx3-ubyte.gz"), error.Message);
        Assert.Contains(FashionMnist.DebianPackage, error.Message);
    }

    [Fact]
    public void LoadsTheRealTestSplitAsScaledNchw()
    {
        var test = FashionMnist.Load(DataSplit.Test);

        Assert.Equal(10_000, test.Count);
        Assert.Equal((1, 28, 28), (test.Channels, test.Height, test.Width));
        Assert.Equal(10_000 * 784, test.ReadAllPixels().Length);
        Assert.InRange(test.ReadAllPixels().Min(), 0f, 0f);
        Assert.InRange(test.ReadAllPixels().Max(), 1f, 1f);
        Assert.Equal(Enumerable.Range(0, 10), test.Labels.Distinct().Order());
    }
}
