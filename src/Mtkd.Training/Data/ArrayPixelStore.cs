namespace Mtkd.Training.Data;

/// <summary>Pixels in one float32 array, image after image: data that is small, or was made in memory.</summary>
internal sealed class ArrayPixelStore : PixelStore
{
    private readonly float[] pixels;

    public ArrayPixelStore(float[] pixels, int imageSize)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (imageSize <= 0) throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, "Expected a positive image size.");
        if (pixels.LongLength % imageSize != 0)
            throw new ArgumentException($"{pixels.LongLength} pixels are not a whole number of images of {imageSize} values.", nameof(pixels));
        this.pixels = pixels;
        ImageSize = imageSize;
    }

    public override long Count => pixels.LongLength / ImageSize;
    public override int ImageSize { get; }

    /// <summary>The array itself (not a copy).</summary>
    public float[] Pixels => pixels;

    public override void Read(ReadOnlySpan<long> rows, Span<float> destination)
    {
        CheckDestination(rows.Length, destination);
        for (int i = 0; i < rows.Length; i++)
            pixels.AsSpan(checked((int)(rows[i] * ImageSize)), ImageSize).CopyTo(destination.Slice(i * ImageSize, ImageSize));
    }

    public override void ReadRange(long start, int count, Span<float> destination)
    {
        CheckDestination(count, destination);
        pixels.AsSpan(checked((int)(start * ImageSize)), count * ImageSize).CopyTo(destination);
    }
}
