using System.Globalization;
using SkiaSharp;

namespace Mtkd.Samples.Images;

/// <summary>
/// Decides whether an image file is fit for a model that takes <see cref="Height"/>×<see cref="Width"/> pixels: it must
/// decode completely, be at least a quarter of that size on each side, and have nearly the same aspect ratio, since
/// resizing stretches it to the model's shape.
/// </summary>
public sealed class ImageCheck(int height, int width, double aspectTolerance = 0.25)
{
    public int Height { get; } = height;
    public int Width { get; } = width;

    /// <summary>What is wrong with the file, or null when it is fit to use.</summary>
    public string? Problem(string path)
    {
        using var codec = SKCodec.Create(path, out var result);
        if (codec is null)
            return $"cannot be decoded as an image ({result})";
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using (var bitmap = new SKBitmap(info))
        {
            var decoded = codec.GetPixels(info, bitmap.GetPixels());
            if (decoded != SKCodecResult.Success)
                return $"is damaged: decoding stopped with {decoded}";
        }
        int h = info.Height, w = info.Width;
        if (h * 4 < Height || w * 4 < Width)
            return string.Create(CultureInfo.InvariantCulture, $"is {w}×{h} pixels; the model takes {Width}×{Height}, and images under a quarter of that are refused");
        double ratio = (double)w / h, expected = (double)Width / Height;
        if (Math.Abs(Math.Log(ratio / expected)) > Math.Log(1 + aspectTolerance))
            return string.Create(CultureInfo.InvariantCulture,
                $"is {w}×{h} pixels, aspect ratio {ratio:F2}; the model takes {Width}×{Height} ({expected:F2}) and resizing would distort it");
        return null;
    }
}
