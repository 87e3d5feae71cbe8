using System.Runtime.InteropServices;
using SkiaSharp;

namespace Mtkd.Samples.Images;

/// <summary>Small helpers the synthetic-image generators share.</summary>
public static class Drawing
{
    /// <summary>A generator for one image: the same (seed, index, class) always draws the same picture.</summary>
    public static Random RandomFor(int seed, int index, bool positive) => new(unchecked(seed * 1_000_003 + index * 2 + (positive ? 1 : 0)));

    public static double Uniform(this Random random, double low, double high) => low + random.NextDouble() * (high - low);

    /// <summary>A normal deviate (Box–Muller).</summary>
    public static double Gaussian(this Random random, double mean = 0, double sd = 1) =>
        mean + sd * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    public static SKColor Hsv(double hue, double saturation, double value, double alpha = 1) =>
        SKColor.FromHsv((float)(hue % 360 + 360) % 360, (float)Math.Clamp(saturation * 100, 0, 100), (float)Math.Clamp(value * 100, 0, 100))
            .WithAlpha((byte)Math.Clamp(alpha * 255, 0, 255));

    public static SKColor Grey(double value, double alpha = 1) => Hsv(0, 0, value, alpha);

    /// <summary>Sensor noise: every channel of every pixel moved by a normal deviate of <paramref name="sd"/> grey levels.</summary>
    public static void AddNoise(SKBitmap bitmap, Random random, double sd)
    {
        var bytes = new byte[bitmap.ByteCount];
        Marshal.Copy(bitmap.GetPixels(), bytes, 0, bytes.Length);
        for (int i = 0; i < bytes.Length; i++)
            if (i % 4 != 3)
                bytes[i] = (byte)Math.Clamp(bytes[i] + random.Gaussian(0, sd), 0, 255);
        Marshal.Copy(bytes, 0, bitmap.GetPixels(), bytes.Length);
    }

    public static SKBitmap NewBitmap(int height, int width) => new(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));

    public static byte[] Encode(SKBitmap bitmap, SKEncodedImageFormat format, int quality)
    {
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, quality);
        return data.ToArray();
    }

    /// <summary>A paint that fills with a soft (Gaussian-blurred) edge.</summary>
    public static SKPaint Soft(SKColor color, double blur) => new()
    {
        Color = color, IsAntialias = true, MaskFilter = blur > 0 ? SKMaskFilter.CreateBlur(SKBlurStyle.Normal, (float)blur) : null,
    };
}
