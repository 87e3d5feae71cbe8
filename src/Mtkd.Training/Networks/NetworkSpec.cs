namespace Mtkd.Training.Networks;

/// <summary>The shape of one image's activations after a layer: C×H×W maps, or a flat feature vector (H = W = 1, Flat).</summary>
public readonly record struct ActivationShape(int Channels, int Height, int Width, bool Flat)
{
    public int Size => Channels * Height * Width;
    public override string ToString() => Flat ? $"[{Channels}]" : $"[{Channels}x{Height}x{Width}]";
}

/// <summary>A feed-forward classifier as a list of layers: what gets trained, counted and exported.</summary>
public sealed record NetworkSpec(string Name, IReadOnlyList<LayerSpec> Layers)
{
    /// <summary>
    /// The activation shape after each layer for one input image (element 0 is the input itself). Throws with the
    /// layer's index when a layer does not fit its input (a convolution after Flatten, a kernel larger than the map).
    /// </summary>
    public IReadOnlyList<ActivationShape> InferShapes(int channels, int height, int width, int classCount)
    {
        var shapes = new List<ActivationShape> { new(channels, height, width, false) };
        var current = shapes[0];
        for (int i = 0; i < Layers.Count; i++)
        {
            var layer = Layers[i];
            current = layer switch
            {
                Conv2dLayer c => Spatial(i, layer, current, c.OutChannels,
                    (current.Height + 2 * c.Padding - c.Kernel) / c.Stride + 1,
                    (current.Width + 2 * c.Padding - c.Kernel) / c.Stride + 1),
                MaxPool2dLayer p => Spatial(i, layer, current, current.Channels, current.Height / p.Kernel, current.Width / p.Kernel),
                BatchNorm2dLayer => Spatial(i, layer, current, current.Channels, current.Height, current.Width),
                FlattenLayer => new ActivationShape(current.Size, 1, 1, true),
                ResidualBlockLayer r => Spatial(i, layer, current, r.OutChannels, (current.Height - 1) / r.Stride + 1, (current.Width - 1) / r.Stride + 1),
                DepthwiseSeparableLayer d => Spatial(i, layer, current, d.OutChannels, (current.Height - 1) / d.Stride + 1, (current.Width - 1) / d.Stride + 1),
                GlobalAveragePoolLayer => current.Flat ? throw Misfit(i, layer, current, "C×H×W feature maps") : new ActivationShape(current.Channels, 1, 1, true),
                LinearLayer l when current.Flat => new ActivationShape(l.OutFeatures > 0 ? l.OutFeatures : classCount, 1, 1, true),
                LinearLayer => throw Misfit(i, layer, current, "a flat input; add a Flatten layer before it"),
                ReluLayer or DropoutLayer => current,
                _ => throw new NotSupportedException($"{Name}: layer {i} ({layer.GetType().Name}) is not supported."),
            };
            shapes.Add(current);
        }
        if (!current.Flat || current.Channels != classCount)
            throw new InvalidOperationException($"{Name}: the last layer gives {current}, expected [{classCount}] class logits.");
        return shapes;
    }

    private ActivationShape Spatial(int index, LayerSpec layer, ActivationShape input, int channels, int height, int width)
    {
        if (input.Flat)
            throw Misfit(index, layer, input, "C×H×W feature maps");
        if (height <= 0 || width <= 0)
            throw Misfit(index, layer, input, "a feature map large enough for its kernel");
        return new ActivationShape(channels, height, width, false);
    }

    private InvalidOperationException Misfit(int index, LayerSpec layer, ActivationShape input, string expected) =>
        new($"{Name}: layer {index} ({layer}) gets input {input}; it needs {expected}.");
}
