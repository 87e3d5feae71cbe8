using System.Buffers.Binary;
using Mtkd.Training.Data;

namespace Mtkd.Training.Tests.Data;

/// <summary>A file whose header declares an absurd size is refused by name before anything is allocated.</summary>
public sealed class ImageDecoderTests
{
    [Fact]
    public void A_png_declaring_100000_by_100000_pixels_is_refused_before_decoding()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("mtkd-decoder-").FullName, "huge.png");
        File.WriteAllBytes(path, PngHeader(100_000, 100_000));
        var problem = ImageDecoder.TryDecode(path, new ImageFormat(3, 8, 8), new byte[3 * 8 * 8]);
        Assert.NotNull(problem);
        Assert.Contains("declares 100000×100000 pixels", problem);
        Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
    }

    // A valid PNG as far as its header goes (8-bit RGB at the declared size), with one short compressed row of data:
    // what a crafted or truncated file looks like. Only the header's claim matters.
    private static byte[] PngHeader(int width, int height)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // colour type: RGB
        using var compressed = new MemoryStream();
        using (var zlib = new System.IO.Compression.ZLibStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            zlib.Write(new byte[1 + 3 * 16]);
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, .. Chunk("IHDR", ihdr), .. Chunk("IDAT", compressed.ToArray()), .. Chunk("IEND", [])];
    }

    private static byte[] Chunk(string type, byte[] data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type).CopyTo(chunk, 4);
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32(chunk[4..(8 + data.Length)]));
        return chunk;
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}
