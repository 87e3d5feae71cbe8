using System.IO.Compression;

namespace Mtkd.Training.Data;

/// <summary>
/// Reads the IDX format of the MNIST family (big-endian header: magic with element type and rank, one int32 per
/// dimension, then the raw elements), plain or gzip-compressed. Only unsigned-byte payloads are supported, which
/// is what MNIST and Fashion-MNIST use.
/// </summary>
internal static class IdxReader
{
    private const byte UnsignedByteType = 0x08;

    /// <summary>An IDX array: its dimensions and its bytes in row-major order.</summary>
    public sealed record IdxArray(int[] Dimensions, byte[] Data);

    /// <summary>
    /// An images file (rank 3) and its labels file (rank 1), checked against each other: as many labels as images,
    /// each a class index below <paramref name="classCount"/>.
    /// </summary>
    public static (IdxArray Images, int[] Labels) ReadLabelledImages(string imagesPath, string labelsPath, int classCount, string? hint = null)
    {
        var images = Read(imagesPath, expectedRank: 3, hint);
        var labels = Read(labelsPath, expectedRank: 1, hint);
        if (labels.Dimensions[0] != images.Dimensions[0])
            throw new InvalidDataException($"{labelsPath}: {labels.Dimensions[0]} labels for {images.Dimensions[0]} images in {imagesPath}.");
        var classes = new int[labels.Data.Length];
        for (int i = 0; i < classes.Length; i++)
        {
            classes[i] = labels.Data[i];
            if (classes[i] >= classCount)
                throw new InvalidDataException($"{labelsPath}: label {classes[i]} at index {i}; expected 0..{classCount - 1}.");
        }
        return (images, classes);
    }

    /// <summary>The dimensions in the file's header, without reading its data.</summary>
    public static int[] ReadShape(string path, int expectedRank) => Read(path, expectedRank, hint: null, headerOnly: true).Dimensions;

    /// <summary>Reads the file; a name ending in .gz is decompressed on the fly.</summary>
    /// <param name="path">The IDX file.</param>
    /// <param name="expectedRank">The rank the caller needs (3 for images, 1 for labels).</param>
    /// <param name="hint">Appended to error messages, e.g. which package provides the file.</param>
    public static IdxArray Read(string path, int expectedRank, string? hint = null) => Read(path, expectedRank, hint, headerOnly: false);

    private static IdxArray Read(string path, int expectedRank, string? hint, bool headerOnly)
    {
        string suffix = hint is null ? "" : " " + hint;
        if (!File.Exists(path))
            throw new FileNotFoundException($"IDX file not found: {path}.{suffix}", path);

        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(file, CompressionMode.Decompress)
            : file;
        try
        {
            Span<byte> magic = stackalloc byte[4];
            ReadExactly(stream, magic, path, "the 4-byte magic number", suffix);
            if (magic[0] != 0 || magic[1] != 0)
                throw new InvalidDataException($"{path}: not an IDX file (magic bytes {magic[0]:X2} {magic[1]:X2}, expected 00 00).{suffix}");
            if (magic[2] != UnsignedByteType)
                throw new InvalidDataException($"{path}: IDX element type 0x{magic[2]:X2} is not supported; expected 0x08 (unsigned byte).{suffix}");
            if (magic[3] != expectedRank)
                throw new InvalidDataException($"{path}: IDX rank {magic[3]}, expected {expectedRank}.{suffix}");

            var dims = new int[expectedRank];
            Span<byte> dimBytes = stackalloc byte[4];
            long total = 1;
            for (int i = 0; i < expectedRank; i++)
            {
                ReadExactly(stream, dimBytes, path, $"dimension {i} of the header", suffix);
                dims[i] = dimBytes[0] << 24 | dimBytes[1] << 16 | dimBytes[2] << 8 | dimBytes[3];
                if (dims[i] <= 0)
                    throw new InvalidDataException($"{path}: IDX dimension {i} is {dims[i]}, expected a positive size.{suffix}");
                total *= dims[i];
            }
            if (total > Array.MaxLength)
                throw new InvalidDataException($"{path}: IDX payload of {total} elements is too large.{suffix}");

            if (headerOnly) return new IdxArray(dims, []);
            var data = new byte[total];
            ReadExactly(stream, data, path, $"{total} data bytes ({string.Join("x", dims)})", suffix);
            return new IdxArray(dims, data);
        }
        catch (InvalidDataException ex) when (!ex.Message.StartsWith(path, StringComparison.Ordinal))
        {
            // GZipStream reports a corrupt or cut-off archive without naming the file.
            throw new InvalidDataException($"{path}: corrupt or truncated gzip data ({ex.Message}).{suffix}", ex);
        }
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string path, string what, string suffix)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = stream.Read(buffer[read..]);
            if (n == 0)
                throw new InvalidDataException($"{path}: truncated IDX file; it ended after {read} of the {buffer.Length} bytes of {what}.{suffix}");
            read += n;
        }
    }
}
