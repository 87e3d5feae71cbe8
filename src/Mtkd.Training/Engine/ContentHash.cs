using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Mtkd.Training.Data;

namespace Mtkd.Training.Engine;

/// <summary>Short content hashes for checkpoint fingerprints: what a run was trained from, not only how.</summary>
internal static class ContentHash
{
    /// <summary>The images sampled for a dataset's hash: every image of a small dataset, an even spread of a large one.</summary>
    public const int SampledImages = 2048;

    public static string Of(ReadOnlySpan<float> values) => Hex(SHA256.HashData(MemoryMarshal.AsBytes(values)));

    public static string Of(byte[] bytes) => Hex(SHA256.HashData(bytes));

    /// <summary>
    /// The labels, the shape and up to <see cref="SampledImages"/> images spread evenly over the dataset: enough to
    /// tell other data apart without reading gigabytes of photographs at every start.
    /// </summary>
    public static string Of(ImageDataset data)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(MemoryMarshal.AsBytes<int>([data.Channels, data.Height, data.Width, data.Count]));
        hash.AppendData(MemoryMarshal.AsBytes(data.Labels.AsSpan()));
        var pixels = new float[data.ImageSize];
        int samples = Math.Min(SampledImages, data.Count);
        for (int s = 0; s < samples; s++)
        {
            data.ReadImages((int)((long)s * data.Count / samples), 1, pixels);
            hash.AppendData(MemoryMarshal.AsBytes(pixels.AsSpan()));
        }
        return Hex(hash.GetHashAndReset());
    }

    private static string Hex(byte[] digest) => Convert.ToHexString(digest, 0, 8).ToLowerInvariant();
}
