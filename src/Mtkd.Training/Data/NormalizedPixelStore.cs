namespace Mtkd.Training.Data;

/// <summary>
/// Per-channel normalization, (x − mean[c]) / std[c], applied as images are read: teachers trained elsewhere often
/// expect it (ImageNet's mean 0.485, 0.456, 0.406 and std 0.229, 0.224, 0.225), and applying it in the store means
/// training, scoring and evaluation all see the same inputs.
/// </summary>
internal sealed class NormalizedPixelStore : PixelStore
{
    private readonly PixelStore inner;
    private readonly float[] mean, scale;
    private readonly int plane;

    public NormalizedPixelStore(PixelStore inner, int channels, IReadOnlyList<float> mean, IReadOnlyList<float> std)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (mean.Count != channels || std.Count != channels)
            throw new ArgumentException($"Normalization needs one mean and one std per channel ({channels}); got {mean.Count} and {std.Count}.");
        if (std.Any(s => !float.IsFinite(s) || s <= 0) || mean.Any(m => !float.IsFinite(m)))
            throw new ArgumentException($"Normalization std must be positive and finite, mean finite; got mean {string.Join(",", mean)}, std {string.Join(",", std)}.");
        if (inner.ImageSize % channels != 0)
            throw new ArgumentException($"Images of {inner.ImageSize} values do not split into {channels} channels.");
        (this.inner, this.mean, scale, plane) = (inner, [.. mean], std.Select(s => 1 / s).ToArray(), inner.ImageSize / channels);
    }

    public override long Count => inner.Count;
    public override int ImageSize => inner.ImageSize;

    public override void Read(ReadOnlySpan<long> rows, Span<float> destination)
    {
        inner.Read(rows, destination);
        Normalize(destination[..(rows.Length * ImageSize)]);
    }

    public override void ReadRange(long start, int count, Span<float> destination)
    {
        inner.ReadRange(start, count, destination);
        Normalize(destination[..(count * ImageSize)]);
    }

    private void Normalize(Span<float> values)
    {
        for (int offset = 0; offset < values.Length; offset += ImageSize)
            for (int c = 0; c < mean.Length; c++)
            {
                var channel = values.Slice(offset + c * plane, plane);
                float m = mean[c], s = scale[c];
                for (int i = 0; i < channel.Length; i++) channel[i] = (channel[i] - m) * s;
            }
    }
}
