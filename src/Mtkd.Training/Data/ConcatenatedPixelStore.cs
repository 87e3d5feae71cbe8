namespace Mtkd.Training.Data;

/// <summary>Two stores read as one: rows of the first, then rows of the second (labelled photos followed by unlabelled ones).</summary>
internal sealed class ConcatenatedPixelStore : PixelStore
{
    private readonly PixelStore first, second;

    public ConcatenatedPixelStore(PixelStore first, PixelStore second)
    {
        if (first.ImageSize != second.ImageSize)
            throw new ArgumentException($"Cannot join images of {second.ImageSize} values to images of {first.ImageSize}.");
        (this.first, this.second) = (first, second);
    }

    public override long Count => first.Count + second.Count;
    public override int ImageSize => first.ImageSize;

    public override void Read(ReadOnlySpan<long> rows, Span<float> destination)
    {
        CheckDestination(rows.Length, destination);
        for (int i = 0; i < rows.Length; i++)
        {
            var target = destination.Slice(i * ImageSize, ImageSize);
            if (rows[i] < first.Count)
                first.ReadRange(rows[i], 1, target);
            else
                second.ReadRange(rows[i] - first.Count, 1, target);
        }
    }
}
