using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Networks;

/// <summary>
/// A <see cref="NetworkSpec"/> built as a TorchSharp module. Child modules are named "layers.{index}" after the
/// spec's layer index, which the ONNX exporter reuses for node names.
/// </summary>
public sealed class SequentialNetwork : nn.Module<Tensor, Tensor>
{
    private readonly Sequential layers;
    private readonly ModuleList<nn.Module<Tensor, Tensor>> heads;

    /// <param name="spec">The layers.</param>
    /// <param name="channels">Input channels.</param>
    /// <param name="height">Input height.</param>
    /// <param name="width">Input width.</param>
    /// <param name="classCount">Classes; a LinearLayer with OutFeatures 0 gets this many.</param>
    /// <param name="heads">Copies of the final linear layer ("heads.{k}"), one per teacher for mimic_all; 1 for an ordinary network.</param>
    public SequentialNetwork(NetworkSpec spec, int channels, int height, int width, int classCount, int heads = 1)
        : base(spec.Name)
    {
        if (heads < 1)
            throw new ArgumentOutOfRangeException(nameof(heads), heads, "A network needs at least one head.");
        if (heads > 1 && spec.Layers[^1] is not LinearLayer)
            throw new ArgumentException($"{spec.Name}: several heads need the last layer to be Linear, not {spec.Layers[^1]}.", nameof(heads));
        Spec = spec;
        InputShape = new ActivationShape(channels, height, width, false);
        ClassCount = classCount;
        HeadCount = heads;
        Shapes = spec.InferShapes(channels, height, width, classCount);

        int bodyLayers = heads > 1 ? spec.Layers.Count - 1 : spec.Layers.Count;
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i < bodyLayers; i++)
            modules.Add(($"{i}", CreateModule(spec.Layers[i], Shapes[i], Shapes[i + 1])));
        var headModules = Enumerable.Range(0, heads > 1 ? heads : 0)
            .Select(_ => (nn.Module<Tensor, Tensor>)CreateModule(spec.Layers[^1], Shapes[^2], Shapes[^1])).ToArray();
        LayerModules = modules.Select(m => m.Item2).ToArray();
        HeadModules = headModules;
        layers = nn.Sequential(modules);
        this.heads = nn.ModuleList(headModules);
        RegisterComponents();
    }

    public NetworkSpec Spec { get; }
    public ActivationShape InputShape { get; }
    public int ClassCount { get; }
    /// <summary>Activation shapes: input, then after each layer.</summary>
    public IReadOnlyList<ActivationShape> Shapes { get; }
    /// <summary>The module of each spec layer, by index; with several heads, the last layer's modules are <see cref="HeadModules"/>.</summary>
    public IReadOnlyList<nn.Module<Tensor, Tensor>> LayerModules { get; }

    /// <summary>Copies of the final layer, one per teacher, when <see cref="HeadCount"/> &gt; 1; else empty.</summary>
    public IReadOnlyList<nn.Module<Tensor, Tensor>> HeadModules { get; }

    /// <summary>1 for an ordinary network; the teacher count for a mimic_all student.</summary>
    public int HeadCount { get; }

    /// <summary>Size and cost of this network for one image.</summary>
    public NetworkComplexity Complexity => NetworkComplexity.Of(Spec, InputShape.Channels, InputShape.Height, InputShape.Width, ClassCount, HeadCount);

    /// <summary>Trainable parameters.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>Class logits [B, C]. With several heads: the log of the mean of the heads' probabilities, so softmax gives that mean.</summary>
    public override Tensor forward(Tensor input)
    {
        if (HeadCount == 1)
            return layers.forward(input);
        using var scope = NewDisposeScope();
        return Distillation.DistillationLoss.MeanOfHeadsLogProbabilities(ForwardHeads(input)).MoveToOuterDisposeScope();
    }

    /// <summary>Every head's logits, [B, K, C] (K = 1 for an ordinary network).</summary>
    public Tensor ForwardHeads(Tensor input)
    {
        if (HeadCount == 1)
            return layers.forward(input).unsqueeze(1);
        using var scope = NewDisposeScope();
        var body = layers.forward(input);
        return stack(HeadModules.Select(h => h.forward(body)).ToArray(), 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Class logits [B, C] and the output of layer <paramref name="layer"/> (a hint for feature distillation), in one
    /// pass; for networks with one head.
    /// </summary>
    public (Tensor Logits, Tensor Intermediate) ForwardWithIntermediate(Tensor input, int layer)
    {
        if (HeadCount != 1)
            throw new InvalidOperationException($"{Spec.Name}: intermediate outputs are for networks with one head; this one has {HeadCount}.");
        if (layer < 0 || layer >= LayerModules.Count)
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"{Spec.Name} has layers 0 to {LayerModules.Count - 1}.");
        Tensor current = input, intermediate = input;
        for (int i = 0; i < LayerModules.Count; i++)
        {
            current = LayerModules[i].forward(current);
            if (i == layer) intermediate = current;
        }
        return (current, intermediate);
    }

    private static nn.Module<Tensor, Tensor> CreateModule(LayerSpec layer, ActivationShape input, ActivationShape output) => layer.CreateModule(input, output);
}
