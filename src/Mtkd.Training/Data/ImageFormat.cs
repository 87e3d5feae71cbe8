using System.Globalization;

namespace Mtkd.Training.Data;

/// <summary>How an image of any size becomes the network's input size (the modes of ML.NET's ResizeImages).</summary>
public enum ResizeMode
{
    /// <summary>Stretched to the size, aspect ratio ignored (ML.NET's <c>Fill</c>). The default.</summary>
    Fill,

    /// <summary>Scaled to fit inside the size, the rest black (ML.NET's <c>IsoPad</c>).</summary>
    Pad,

    /// <summary>Scaled to cover the size, centred, the overhang cut off (ML.NET's <c>IsoCrop</c>, central anchor).</summary>
    Crop,
}

/// <summary>The pixels a network takes: channels (1 grey, 3 RGB), height and width, and how images are resized to them.</summary>
public sealed record ImageFormat(int Channels, int Height, int Width, ResizeMode Resize = ResizeMode.Fill)
{
    /// <summary>Values per image, C×H×W.</summary>
    public int ImageSize => Channels * Height * Width;

    /// <summary>Refuses a shape no image decodes to.</summary>
    public void Validate()
    {
        if (Channels is not (1 or 3))
            throw new ArgumentException($"--channels {Channels}: expected 1 (grey) or 3 (RGB).");
        if (Height is < 1 or > 8192 || Width is < 1 or > 8192)
            throw new ArgumentException($"--image-size {Height}x{Width}: expected HxW between 1 and 8192 pixels a side.");
    }

    /// <summary>Parses "HxW" (for example 240x320; a single number means square).</summary>
    public static (int Height, int Width) ParseSize(string text)
    {
        var parts = text.Split('x', 'X', '×');
        if (parts.Length is 1 or 2 && parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0))
        {
            int h = int.Parse(parts[0], CultureInfo.InvariantCulture);
            return (h, parts.Length == 2 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : h);
        }
        throw new ArgumentException($"--image-size '{text}': expected HxW in pixels, such as 240x320 or 224.");
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Channels}x{Height}x{Width} {Resize.ToString().ToLowerInvariant()}");
}
