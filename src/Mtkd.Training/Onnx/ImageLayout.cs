namespace Mtkd.Training.Onnx;

/// <summary>How a model's image input is laid out after the batch dimension.</summary>
public enum ImageLayout
{
    /// <summary>Not an image tensor (a flat vector or a plain matrix): values are fed as they are.</summary>
    Flat,

    /// <summary>Channels first, [C, H, W]: PyTorch's layout and the layout of Mtkd's <c>Features</c> columns.</summary>
    Nchw,

    /// <summary>Channels last, [H, W, C]: Keras/TensorFlow's layout.</summary>
    Nhwc,
}

/// <summary>The layout guessed from an input shape, and whether the guess was forced by ambiguity.</summary>
internal readonly record struct ImageLayoutGuess(ImageLayout Layout, bool Ambiguous)
{
    /// <summary>
    /// Guesses the layout of a per-image shape (the dimensions after the batch). A 3-D shape is channels-first
    /// when its first dimension is smaller than both others, channels-last when its last one is; a shape that
    /// fits both or neither (such as [3, 3, 3]) is reported as ambiguous and taken as channels-first.
    /// </summary>
    public static ImageLayoutGuess FromShape(IReadOnlyList<long> imageShape)
    {
        if (imageShape.Count != 3)
            return new(ImageLayout.Flat, false);
        long a = imageShape[0], b = imageShape[1], c = imageShape[2];
        bool channelsFirst = a < b && a < c;
        bool channelsLast = c < a && c < b;
        return channelsFirst == channelsLast
            ? new(ImageLayout.Nchw, true)
            : new(channelsFirst ? ImageLayout.Nchw : ImageLayout.Nhwc, false);
    }
}
