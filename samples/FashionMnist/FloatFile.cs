using System.Runtime.InteropServices;
using Mtkd.Training;

namespace Mtkd.Samples.FashionMnist;

/// <summary>Raw little-endian float32 arrays (cached logits), written to a temporary file and renamed.</summary>
public static class FloatFile
{
    public static void Write(string path, float[] values) =>
        AtomicFile.Write(path, s => s.Write(MemoryMarshal.AsBytes(values.AsSpan())));

    public static float[] Read(string path, long expectedCount)
    {
        long bytes = new FileInfo(path).Length;
        if (bytes != expectedCount * sizeof(float))
            throw new InvalidDataException($"{path} holds {bytes} bytes; expected {expectedCount} float32 values ({expectedCount * sizeof(float)} bytes). Delete it to recompute.");
        var values = new float[expectedCount];
        using var stream = File.OpenRead(path);
        stream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }
}
