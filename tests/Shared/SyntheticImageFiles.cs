using SkiaSharp;

namespace Mtkd.Tests;

/// <summary>
/// SYNTHETIC image files for data-layer tests: class c is a bright square in a position of its own on noise, drawn
/// at sizes that vary per file, so resizing is exercised and a small network can tell the classes apart.
/// </summary>
internal static class SyntheticImageFiles
{
    public static void WritePng(string path, int height, int width, int cls, int seed)
    {
        var random = new Random(seed);
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        int size = Math.Max(2, Math.Min(height, width) / 3);
        int top = cls % 2 == 0 ? 1 : height - size - 1, left = cls / 2 % 2 == 0 ? 1 : width - size - 1;
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                bool square = y >= top && y < top + size && x >= left && x < left + size;
                byte v = (byte)(square ? 200 + random.Next(50) : random.Next(70));
                bitmap.SetPixel(x, y, new SKColor(v, (byte)(v / 2 + cls * 20), (byte)(255 - v)));
            }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var stream = File.Create(path);
        bitmap.Encode(stream, SKEncodedImageFormat.Png, 100);
    }

    /// <summary>ROOT/&lt;class&gt;/img-i.png for each class; sizes vary around <paramref name="height"/>×<paramref name="width"/>.</summary>
    public static void WriteFolder(string root, IReadOnlyList<string> classes, int perClass, int height = 24, int width = 30, int seed = 1)
    {
        for (int c = 0; c < classes.Count; c++)
            for (int i = 0; i < perClass; i++)
                WritePng(Path.Combine(root, classes[c], $"img-{i:D3}.png"), height + i % 5, width + i % 7, c, seed * 10_000 + c * 1000 + i);
    }

    /// <summary>Unlabelled images straight in <paramref name="root"/>.</summary>
    public static void WriteUnlabeled(string root, int count, int classes, int height = 24, int width = 30)
    {
        for (int i = 0; i < count; i++)
            WritePng(Path.Combine(root, $"u-{i:D3}.png"), height + i % 3, width, i % classes, 777 + i);
    }

    /// <summary>A PNG cut off halfway: the header says more pixels than the file holds.</summary>
    public static void WriteTruncated(string path, int height = 24, int width = 30)
    {
        WritePng(path, height, width, 0, 5);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
    }
}
