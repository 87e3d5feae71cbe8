namespace Mtkd.Training.Data;

/// <summary>
/// Where a dataset's pixels live: an array in memory (<see cref="ArrayPixelStore"/>) or a file on disk read a batch
/// at a time (<see cref="PixelFile"/>), so training on photographs needs memory for a batch, not for the dataset.
/// Readers hand out images as float32 C×H×W, whatever the storage holds.
/// </summary>
internal abstract class PixelStore
{
    /// <summary>Images stored.</summary>
    public abstract long Count { get; }

    /// <summary>Values per image (C×H×W).</summary>
    public abstract int ImageSize { get; }

    /// <summary>Copies the images at <paramref name="rows"/> into <paramref name="destination"/>, one after another.</summary>
    public abstract void Read(ReadOnlySpan<long> rows, Span<float> destination);

    /// <summary>Copies <paramref name="count"/> consecutive images from <paramref name="start"/>.</summary>
    public virtual void ReadRange(long start, int count, Span<float> destination)
    {
        Span<long> rows = count <= 1024 ? stackalloc long[count] : new long[count];
        for (int i = 0; i < count; i++) rows[i] = start + i;
        Read(rows, destination);
    }

    protected void CheckDestination(int images, Span<float> destination)
    {
        if (destination.Length < (long)images * ImageSize)
            throw new ArgumentException($"A buffer of {destination.Length} values cannot hold {images} images of {ImageSize}.", nameof(destination));
    }
}
