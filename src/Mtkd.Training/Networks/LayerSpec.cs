using System.Text.Json.Serialization;
using Mtkd.Training.Onnx;
using static TorchSharp.torch;

namespace Mtkd.Training.Networks;

/// <summary>
/// One layer of a <see cref="NetworkSpec"/>. Specs are plain data so they serialize to JSON; each kind is one type
/// (in Networks/Layers) that owns its output shape, its TorchSharp module, its parameter and MAC count and its ONNX
/// nodes. A new kind is one new file plus its <see cref="JsonDerivedTypeAttribute"/> line here.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(Conv2dLayer), "conv2d")]
[JsonDerivedType(typeof(BatchNorm2dLayer), "batchnorm2d")]
[JsonDerivedType(typeof(BatchNorm1dLayer), "batchnorm1d")]
[JsonDerivedType(typeof(ReluLayer), "relu")]
[JsonDerivedType(typeof(MaxPool2dLayer), "maxpool2d")]
[JsonDerivedType(typeof(FlattenLayer), "flatten")]
[JsonDerivedType(typeof(LinearLayer), "linear")]
[JsonDerivedType(typeof(DropoutLayer), "dropout")]
[JsonDerivedType(typeof(ResidualBlockLayer), "residual")]
[JsonDerivedType(typeof(DepthwiseSeparableLayer), "depthwise_separable")]
[JsonDerivedType(typeof(GlobalAveragePoolLayer), "global_avgpool")]
[JsonDerivedType(typeof(SqueezeExcitationLayer), "squeeze_excitation")]
public abstract record LayerSpec
{
    /// <summary>The activation shape after this layer; throws <see cref="LayerMisfitException"/> when the input does not fit.</summary>
    internal abstract ActivationShape OutputShape(ActivationShape input, int classCount);

    /// <summary>The layer as a TorchSharp module, for one input and output shape.</summary>
    internal abstract nn.Module<Tensor, Tensor> CreateModule(ActivationShape input, ActivationShape output);

    /// <summary>
    /// Trainable parameters (batch-norm running statistics excluded) and multiply-accumulates for one image: one MAC
    /// per weight use in convolutions and linear layers; batch norm, activations and pooling count as free.
    /// </summary>
    internal virtual NetworkComplexity Cost(ActivationShape input, ActivationShape output) => default;

    /// <summary>
    /// The same layer with its channel or feature count multiplied by <paramref name="factor"/> (rounded, at least 1), for
    /// networks of several widths from one definition; layers without such a count are returned as they are.
    /// </summary>
    internal virtual LayerSpec Narrowed(double factor) => this;

    /// <summary><paramref name="count"/> × <paramref name="factor"/>, rounded, at least 1.</summary>
    private protected static int Scaled(int count, double factor) => Math.Max(1, (int)Math.Round(count * factor, MidpointRounding.AwayFromZero));

    /// <summary>Writes the layer's ONNX nodes; returns how many spec layers they cover and the value that holds the result.</summary>
    internal abstract (int Layers, string Output) Export(OnnxGraphBuilder graph, OnnxLayerStep step);

    /// <summary>A C×H×W output of the given size, or a misfit when the input is flat or the map would vanish.</summary>
    private protected static ActivationShape Spatial(ActivationShape input, int channels, int height, int width)
    {
        if (input.Flat)
            throw new LayerMisfitException("C×H×W feature maps");
        if (height <= 0 || width <= 0)
            throw new LayerMisfitException("a feature map large enough for its kernel");
        return new ActivationShape(channels, height, width, false);
    }
}

/// <summary>A layer that does not fit its input; <see cref="NetworkSpec.InferShapes"/> adds the network, the index and the input.</summary>
internal sealed class LayerMisfitException(string expected) : Exception(expected)
{
    public string Expected { get; } = expected;
}
