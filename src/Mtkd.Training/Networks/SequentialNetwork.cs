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

    public SequentialNetwork(NetworkSpec spec, int channels, int height, int width, int classCount)
        : base(spec.Name)
    {
        Spec = spec;
        InputShape = new ActivationShape(channels, height, width, false);
        ClassCount = classCount;
        Shapes = spec.InferShapes(channels, height, width, classCount);

        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i < spec.Layers.Count; i++)
            modules.Add(($"{i}", CreateModule(spec.Layers[i], Shapes[i], Shapes[i + 1])));
        LayerModules = modules.Select(m => m.Item2).ToArray();
        layers = nn.Sequential(modules);
        RegisterComponents();
    }

    public NetworkSpec Spec { get; }
    public ActivationShape InputShape { get; }
    public int ClassCount { get; }
    /// <summary>Activation shapes: input, then after each layer.</summary>
    public IReadOnlyList<ActivationShape> Shapes { get; }
    /// <summary>The module of each spec layer, by index.</summary>
    public IReadOnlyList<nn.Module<Tensor, Tensor>> LayerModules { get; }

    /// <summary>Trainable parameters.</summary>
    public long ParameterCount => parameters().Sum(p => p.numel());

    public override Tensor forward(Tensor input) => layers.forward(input);

    private static nn.Module<Tensor, Tensor> CreateModule(LayerSpec layer, ActivationShape input, ActivationShape output) => layer switch
    {
        Conv2dLayer c => nn.Conv2d(input.Channels, c.OutChannels, c.Kernel, stride: c.Stride, padding: c.Padding),
        BatchNorm2dLayer => nn.BatchNorm2d(input.Channels),
        ReluLayer => nn.ReLU(),
        MaxPool2dLayer p => nn.MaxPool2d(p.Kernel, p.Kernel),
        FlattenLayer => nn.Flatten(),
        LinearLayer => nn.Linear(input.Size, output.Channels),
        DropoutLayer d => nn.Dropout(d.Probability),
        _ => throw new NotSupportedException($"Layer {layer} is not supported."),
    };
}
