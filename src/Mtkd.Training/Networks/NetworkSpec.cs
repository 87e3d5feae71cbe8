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
    /// The network at <paramref name="factor"/> of its width from layer <paramref name="fromLayer"/> on: every channel and
    /// hidden feature count scaled (the classifier keeps the class count), the layers before kept as they are.
    /// </summary>
    public NetworkSpec Narrowed(double factor, int fromLayer = 0)
    {
        if (!(factor is > 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, "A width factor must be in (0, 1].");
        return factor == 1 ? this : this with { Layers = Layers.Select((layer, i) => i < fromLayer ? layer : layer.Narrowed(factor)).ToArray() };
    }

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
            try
            {
                current = Layers[i].OutputShape(current, classCount);
            }
            catch (LayerMisfitException misfit)
            {
                throw new InvalidOperationException($"{Name}: layer {i} ({Layers[i]}) gets input {current}; it needs {misfit.Expected}.");
            }
            shapes.Add(current);
        }
        if (!current.Flat || current.Channels != classCount)
            throw new InvalidOperationException($"{Name}: the last layer gives {current}, expected [{classCount}] class logits.");
        return shapes;
    }
}
