namespace Mtkd.Training.Data;

/// <summary>
/// Writes images one at a time into a pixel file, so a dataset of any size passes through a row's worth of
/// memory. <see cref="Commit"/> renames the finished file into place: a killed run leaves a <c>.tmp</c>, never a
/// short file under the final name. <see cref="CreateTemporary"/> makes an anonymous file that vanishes with its reader.
/// </summary>
internal sealed class PixelFileWriter : IDisposable
{
    private readonly FileStream stream;
    private readonly string? finalPath;
    private readonly float[]? table;
    private byte[] row = [];
    private bool closed;

    private PixelFileWriter(string path, string? finalPath, PixelElement element, int imageSize, float[]? table)
    {
        if (imageSize <= 0) throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, "Expected a positive image size.");
        (TemporaryPath, this.finalPath, Element, ImageSize, this.table) = (path, finalPath, element, imageSize, table);
        stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 20);
    }

    /// <summary>A writer whose <see cref="Commit"/> puts the file at <paramref name="path"/>.</summary>
    /// <param name="path">Where the committed file goes.</param>
    /// <param name="element">How each value is stored.</param>
    /// <param name="imageSize">Values per image.</param>
    /// <param name="table">For <see cref="PixelElement.UInt8"/>: the byte → float table that floats given to <see cref="Append(ReadOnlySpan{float})"/> must come from.</param>
    public static PixelFileWriter Create(string path, PixelElement element, int imageSize, float[]? table = null) =>
        new(path + ".tmp", path, element, imageSize, table ?? PixelFile.DividedBy255);

    /// <summary>
    /// A writer into a new file in the temporary folder; <see cref="ToTemporaryStore"/> opens it and removes its name.
    /// The name carries the process id, so files of processes killed while writing (kill -9) are removed here.
    /// </summary>
    public static PixelFileWriter CreateTemporary(PixelElement element, int imageSize, float[]? table = null)
    {
        RemoveOrphans(Path.GetTempPath());
        return new(Path.Combine(Path.GetTempPath(), $"mtkd-pixels-{Environment.ProcessId}-{Guid.NewGuid():N}.bin"), null, element, imageSize,
            table ?? PixelFile.DividedBy255);
    }

    // Scratch files whose writer is gone: "mtkd-pixels-PID-GUID.bin" with no process PID running.
    internal static void RemoveOrphans(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder, "mtkd-pixels-*-*.bin"))
        {
            if (AtomicFile.IsOrphan(Path.GetFileName(file)["mtkd-pixels-".Length..].Split('-')[0]))
                TryDelete(file);
        }
    }

    public string TemporaryPath { get; }
    public PixelElement Element { get; }
    public int ImageSize { get; }

    /// <summary>Images written so far.</summary>
    public long Count { get; private set; }

    /// <summary>Appends one image of bytes (a <see cref="PixelElement.UInt8"/> file only).</summary>
    public void Append(ReadOnlySpan<byte> image)
    {
        if (Element != PixelElement.UInt8) throw new InvalidOperationException("This file stores float32; append floats.");
        CheckLength(image.Length);
        stream.Write(image);
        Count++;
    }

    /// <summary>
    /// Appends one image of floats. A <see cref="PixelElement.UInt8"/> file stores each as the byte whose table
    /// entry it equals exactly, and refuses a value that is none (the data was not 8-bit pixels, and storing it
    /// as a byte would change it).
    /// </summary>
    public void Append(ReadOnlySpan<float> image)
    {
        CheckLength(image.Length);
        if (Element == PixelElement.Float32)
        {
            stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(image));
            Count++;
            return;
        }
        if (row.Length != image.Length) row = new byte[image.Length];
        for (int j = 0; j < image.Length; j++)
        {
            float v = image[j];
            int b = (int)MathF.Round(v * 255);
            if (b is < 0 or > 255 || table![b] != v)
                throw new InvalidDataException($"Image {Count}, value {j}: {v} is not an 8-bit pixel value (k/255); expected the pixels of a decoded image.");
            row[j] = (byte)b;
        }
        stream.Write(row);
        Count++;
    }

    private void CheckLength(int length)
    {
        if (closed) throw new InvalidOperationException("The pixel file is already closed.");
        if (length != ImageSize)
            throw new ArgumentException($"Image {Count} has {length} values; this file holds images of {ImageSize}.");
    }

    /// <summary>Flushes the file to disk and renames it to its final path.</summary>
    public void Commit()
    {
        if (finalPath is null) throw new InvalidOperationException("A temporary pixel file has no final path; use ToTemporaryStore.");
        Close(flushToDisk: true);
        File.Move(TemporaryPath, finalPath, overwrite: true);
    }

    /// <summary>The images written, as a store; the file has no name left once it is open, so it goes when the store does.</summary>
    public PixelFile ToTemporaryStore()
    {
        Close(flushToDisk: false);
        var file = PixelFile.Open(TemporaryPath, Element, ImageSize, Count, table: table);
        TryDelete(TemporaryPath); // unlinked while open: the data stays readable and leaves with the handle
        return file;
    }

    private void Close(bool flushToDisk)
    {
        if (closed) return;
        stream.Flush(flushToDisk);
        stream.Dispose();
        closed = true;
    }

    /// <summary>Abandons an uncommitted file.</summary>
    public void Dispose()
    {
        if (closed) return;
        stream.Dispose();
        closed = true;
        TryDelete(TemporaryPath);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { } // Windows keeps an open file's name; it is a temporary file either way
        catch (UnauthorizedAccessException) { }
    }
}
