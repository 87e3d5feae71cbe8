using System.Runtime.InteropServices;
using SkiaSharp;

namespace Mtkd.Training.Data;

/// <summary>
/// Decodes an image file (PNG, JPEG, BMP, GIF, WebP) into C×H×W bytes at a network's input size. It makes the same
/// SkiaSharp calls as ML.NET's LoadImages → ResizeImages → ExtractPixels, so colour pixels cached here equal, bit for
/// bit, what a saved ML.NET pipeline computes from the file at prediction time (a test holds it to that). Grey is
/// 0.3 R + 0.59 G + 0.11 B, the weights ML.NET's ConvertToGrayscale means, not what 5.0.1 computes (it weighs blue
/// as red). A file that does not decode completely is reported, never half-read.
/// </summary>
internal static class ImageDecoder
{
    /// <summary>The file extensions read as images.</summary>
    public static readonly IReadOnlySet<string> Extensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

    /// <summary>The largest image decoded, in pixels (400 MB as RGBA): far beyond any photograph a network is trained on.</summary>
    public const long MaxPixels = 100_000_000;

    // R, G and B weighted 0.3, 0.59, 0.11 through a colour matrix (Skia applies it to colours, whatever the byte order).
    private static readonly float[] GreyMatrix =
    [
        0.3f, 0.59f, 0.11f, 0, 0,
        0.3f, 0.59f, 0.11f, 0, 0,
        0.3f, 0.59f, 0.11f, 0, 0,
        0, 0, 0, 1, 0,
    ];

    /// <summary>Writes the image at <paramref name="path"/> into <paramref name="chw"/> (planar, R, G, B or grey); returns what is wrong with the file, or null.</summary>
    public static string? TryDecode(string path, ImageFormat format, Span<byte> chw)
    {
        if (chw.Length != format.ImageSize)
            throw new ArgumentException($"A buffer of {chw.Length} bytes does not hold one {format} image.", nameof(chw));
        using var decoded = Decode(path, out string? problem);
        if (decoded is null) return problem;
        using var resized = Resize(decoded, format);
        if (resized is null) return $"cannot be resized to {format.Width}×{format.Height}";
        using var grey = format.Channels == 1 ? Grey(resized) : null;
        Extract(grey ?? resized, format, chw);
        return null;
    }

    private static SKBitmap? Decode(string path, out string? problem)
    {
        using var codec = SKCodec.Create(path, out var result);
        if (codec is null)
        {
            problem = File.Exists(path) ? $"cannot be decoded as an image ({result})" : "does not exist";
            return null;
        }
        // A header can declare any size: refuse an absurd one before allocating it (a 100000×100000 PNG is 40 GB of pixels).
        if ((long)codec.Info.Width * codec.Info.Height > MaxPixels)
        {
            problem = $"declares {codec.Info.Width}×{codec.Info.Height} pixels, over the {MaxPixels / 1_000_000} megapixels an image may have; refused before decoding";
            return null;
        }
        // As SKBitmap.Decode (which ML.NET calls) sets it up, but refusing an incomplete file, which Decode accepts silently.
        var info = codec.Info;
        if (info.AlphaType == SKAlphaType.Unpremul) info.AlphaType = SKAlphaType.Premul;
        var bitmap = new SKBitmap(info);
        var status = codec.GetPixels(bitmap.Info, bitmap.GetPixels());
        if (status != SKCodecResult.Success)
        {
            bitmap.Dispose();
            problem = $"is damaged: decoding stopped with {status}";
            return null;
        }
        problem = null;
        if (bitmap.ColorType is SKColorType.Bgra8888 or SKColorType.Rgba8888)
            return bitmap;
        using (bitmap)
            return bitmap.CanCopyTo(SKColorType.Bgra8888) ? bitmap.Copy(SKColorType.Bgra8888) : Fail(out problem, $"has pixel format {bitmap.ColorType}, which cannot be read as colour");
    }

    private static SKBitmap? Fail(out string? problem, string message)
    {
        problem = message;
        return null;
    }

    private static SKBitmap? Resize(SKBitmap image, ImageFormat format)
    {
        int width = format.Width, height = format.Height;
        if (format.Resize == ResizeMode.Fill)
            return image.Resize(new SKSizeI(width, height), SKFilterQuality.None);
        float widthAspect = (float)width / image.Width, heightAspect = (float)height / image.Height;
        // Pad fits the image inside (the smaller scale), Crop covers the frame (the larger), centred either way.
        float aspect = (format.Resize == ResizeMode.Pad) == (heightAspect < widthAspect) ? heightAspect : widthAspect;
        int destX = 0, destY = 0;
        if (heightAspect < widthAspect == (format.Resize == ResizeMode.Pad))
            destX = (int)((width - image.Width * aspect) / 2);
        else
            destY = (int)((height - image.Height * aspect) / 2);
        var destination = new SKBitmap(width, height, isOpaque: true);
        using var canvas = new SKCanvas(destination);
        using var paint = new SKPaint { FilterQuality = SKFilterQuality.High };
        canvas.DrawBitmap(image, new SKRect(0, 0, image.Width, image.Height),
            new SKRect(destX, destY, destX + (int)(image.Width * aspect), destY + (int)(image.Height * aspect)), paint);
        return destination;
    }

    private static SKBitmap Grey(SKBitmap image)
    {
        var destination = new SKBitmap(image.Width, image.Height, isOpaque: true);
        using var filter = SKColorFilter.CreateColorMatrix(GreyMatrix);
        using var paint = new SKPaint { ColorFilter = filter, FilterQuality = SKFilterQuality.High };
        using var canvas = new SKCanvas(destination);
        canvas.DrawBitmap(image, 0f, 0f, paint);
        return destination;
    }

    private static void Extract(SKBitmap image, ImageFormat format, Span<byte> chw)
    {
        var pixels = image.GetPixelSpan();
        bool bgra = image.ColorType == SKColorType.Bgra8888;
        int plane = format.Height * format.Width, rowBytes = image.RowBytes;
        int red = bgra ? 2 : 0, blue = bgra ? 0 : 2;
        for (int y = 0; y < format.Height; y++)
            for (int x = 0; x < format.Width; x++)
            {
                var p = pixels.Slice(y * rowBytes + x * 4, 4);
                int i = y * format.Width + x;
                chw[i] = p[red];
                if (format.Channels == 3)
                {
                    chw[plane + i] = p[1];
                    chw[2 * plane + i] = p[blue];
                }
            }
    }
}
