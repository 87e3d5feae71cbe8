using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Mtkd.Training.Data;

/// <summary>How a pixel file stores each value.</summary>
internal enum PixelElement
{
    /// <summary>One byte per value, turned into a float by a 256-entry table (decoded photographs, IDX files).</summary>
    UInt8,

    /// <summary>float32, little-endian: data that was float already (an ML.NET feature column).</summary>
    Float32,
}

/// <summary>
/// Images in a file on disk, read with positioned reads a batch at a time. Not memory-mapped on purpose: mapped
/// pages count as the process's resident memory once touched, so an epoch over a mapped 5 GB cache would look like
/// (and, under a container's limit, be charged as) 5 GB of resident memory; positioned reads go through the page
/// cache, which the kernel can drop. A small uint8 file (up to <see cref="PreloadBytes"/>, such as Fashion-MNIST's
/// 47 MB) is read into memory once as bytes, a quarter of its size as floats, to spare a system call per image.
/// Thread-safe: reads share no position.
/// </summary>
internal sealed class PixelFile : PixelStore, IDisposable
{
    /// <summary>byte → float as Fashion-MNIST's loader has always done it: b / 255.</summary>
    public static readonly float[] DividedBy255 = Enumerable.Range(0, 256).Select(b => b / 255f).ToArray();

    /// <summary>byte → float as ML.NET's ExtractPixels with scaleImage 1/255 does it: b × (1/255), which differs from b / 255 in the last bit for some b.</summary>
    public static readonly float[] TimesOneOver255 = Enumerable.Range(0, 256).Select(b => b * (1f / 255)).ToArray();

    /// <summary>The largest uint8 file held in memory (as bytes) instead of read per batch: 256 MiB.</summary>
    public const long PreloadBytes = 256L << 20;

    // Tests lower it to exercise the per-batch reads on small files.
    internal static long PreloadLimit = PreloadBytes;

    private readonly SafeFileHandle handle;
    private byte[]? preloaded;
    private readonly long offset;
    private readonly int rowBytes;
    private readonly float[]? table;

    private PixelFile(SafeFileHandle handle, string path, PixelElement element, int imageSize, long count, long offset, float[]? table)
    {
        (this.handle, Path, Element, ImageSize, Count, this.offset, this.table) = (handle, path, element, imageSize, count, offset, table);
        rowBytes = element == PixelElement.UInt8 ? imageSize : checked(imageSize * sizeof(float));
    }

    /// <summary>
    /// Opens <paramref name="count"/> images of <paramref name="imageSize"/> values stored from byte <paramref name="offset"/>
    /// of <paramref name="path"/>; refuses a file too short to hold them.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="element">How each value is stored.</param>
    /// <param name="imageSize">Values per image.</param>
    /// <param name="count">Images in the file.</param>
    /// <param name="offset">Bytes before the first image (an IDX header).</param>
    /// <param name="table">For <see cref="PixelElement.UInt8"/>: the float of each byte value. Default <see cref="DividedBy255"/>.</param>
    public static PixelFile Open(string path, PixelElement element, int imageSize, long count, long offset = 0, float[]? table = null)
    {
        if (imageSize <= 0) throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, "Expected a positive image size.");
        if (table is { Length: not 256 }) throw new ArgumentException("A byte table needs 256 entries.", nameof(table));
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        var file = new PixelFile(handle, path, element, imageSize, count, offset, element == PixelElement.UInt8 ? table ?? DividedBy255 : null);
        long needed = offset + count * file.rowBytes, length = RandomAccess.GetLength(handle);
        if (length < needed)
        {
            handle.Dispose();
            throw new InvalidDataException($"{path}: {length:N0} bytes cannot hold {count:N0} images of {imageSize:N0} {element} values from byte " +
                $"{offset} ({needed:N0} bytes); the file is truncated or belongs to other data.");
        }
        if (element == PixelElement.UInt8 && needed - offset <= PreloadLimit)
        {
            var bytes = new byte[needed - offset];
            file.ReadRows(0, (int)count, [], bytes);
            file.preloaded = bytes;
        }
        return file;
    }

    /// <summary>The file read.</summary>
    public string Path { get; }
    public PixelElement Element { get; }
    public override long Count { get; }
    public override int ImageSize { get; }

    public override void Read(ReadOnlySpan<long> rows, Span<float> destination)
    {
        CheckDestination(rows.Length, destination);
        byte[]? buffer = table is null || preloaded is not null ? null : ArrayPool<byte>.Shared.Rent(rowBytes);
        try
        {
            for (int i = 0; i < rows.Length; i++)
                ReadRows(rows[i], 1, destination.Slice(i * ImageSize, ImageSize), buffer);
        }
        finally
        {
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public override void ReadRange(long start, int count, Span<float> destination)
    {
        CheckDestination(count, destination);
        byte[]? buffer = table is null || preloaded is not null ? null : ArrayPool<byte>.Shared.Rent(checked(rowBytes * count));
        try
        {
            ReadRows(start, count, destination[..(count * ImageSize)], buffer);
        }
        finally
        {
            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // Fills destination through the table (or, given an empty destination, only the byte buffer).
    private void ReadRows(long row, int count, Span<float> destination, byte[]? buffer)
    {
        if (row < 0 || row + count > Count)
            throw new ArgumentOutOfRangeException(nameof(row), row, $"{Path} holds images 0..{Count - 1}.");
        if (preloaded is not null)
        {
            var stored = preloaded.AsSpan(checked((int)(row * rowBytes)), rowBytes * count);
            for (int j = 0; j < stored.Length; j++)
                destination[j] = table![stored[j]];
            return;
        }
        var bytes = table is null ? MemoryMarshal.AsBytes(destination) : buffer.AsSpan(0, rowBytes * count);
        long position = offset + row * rowBytes;
        int done = 0;
        while (done < bytes.Length)
        {
            int read = RandomAccess.Read(handle, bytes[done..], position + done);
            if (read == 0)
                throw new InvalidDataException($"{Path} ended at byte {position + done:N0} while reading image {row + done / rowBytes}; the file was truncated after it was opened.");
            done += read;
        }
        if (table is not null && !destination.IsEmpty)
            for (int j = 0; j < bytes.Length; j++)
                destination[j] = table[bytes[j]];
    }

    public void Dispose() => handle.Dispose();
}
