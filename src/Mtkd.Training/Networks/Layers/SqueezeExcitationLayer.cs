using Mtkd.Training.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Networks;

/// <summary>
/// Squeeze-and-excitation (Hu et al. 2018) with MobileNetV3's hard sigmoid gate (Howard et al. 2019): each channel
/// is scaled by hardsigmoid(W₂ relu(W₁ mean(x))), the two projections 1×1 convolutions through C/<see cref="Reduction"/>
/// channels. The shape is unchanged.
/// </summary>
public sealed record SqueezeExcitationLayer(int Reduction = 4) : LayerSpec
{
    private int Squeezed(int channels) => Math.Max(1, channels / Reduction);

    internal override ActivationShape OutputShape(ActivationShape input, int classCount) =>
        Reduction < 1 ? throw new LayerMisfitException("a reduction of at least 1") : Spatial(input, input.Channels, input.Height, input.Width);

    internal override nn.Module<Tensor, Tensor> CreateModule(ActivationShape input, ActivationShape output) => new Block(input.Channels, Squeezed(input.Channels));

    internal override NetworkComplexity Cost(ActivationShape input, ActivationShape output)
    {
        long c = input.Channels, r = Squeezed(input.Channels);
        return new NetworkComplexity(c * r + r + r * c + c, c * r + r * c); // the projections run once per image, at 1×1
    }

    internal override (int Layers, string Output) Export(OnnxGraphBuilder graph, OnnxLayerStep step)
    {
        var (block, name) = ((Block)step.Module, step.Name);
        graph.AddNode("GlobalAveragePool", $"{name}.squeeze", [step.Input], $"{name}.squeezed");
        graph.AddConv($"{name}.reduce", $"{name}.squeezed", $"{name}.reduced", block.reduce, 1, 1, 0, 1);
        graph.AddNode("Relu", $"{name}.relu", [$"{name}.reduced"], $"{name}.relu.output");
        graph.AddConv($"{name}.expand", $"{name}.relu.output", $"{name}.expanded", block.expand, 1, 1, 0, 1);
        // hardsigmoid(a) = clip(a + 3, 0, 6) / 6 = (relu(a + 3) − relu(a − 3)) / 6, in operators every runtime has.
        string three = graph.Scalar($"{name}.three", 3f), sixth = graph.Scalar($"{name}.sixth", 1f / 6);
        graph.AddNode("Add", $"{name}.plus3", [$"{name}.expanded", three], $"{name}.plus3.output");
        graph.AddNode("Relu", $"{name}.upper", [$"{name}.plus3.output"], $"{name}.upper.output");
        graph.AddNode("Sub", $"{name}.minus3", [$"{name}.expanded", three], $"{name}.minus3.output");
        graph.AddNode("Relu", $"{name}.lower", [$"{name}.minus3.output"], $"{name}.lower.output");
        graph.AddNode("Sub", $"{name}.clip", [$"{name}.upper.output", $"{name}.lower.output"], $"{name}.clipped");
        graph.AddNode("Mul", $"{name}.gate", [$"{name}.clipped", sixth], $"{name}.gate.output");
        graph.AddNode("Mul", name, [step.Input, $"{name}.gate.output"], step.Output); // [B,C,H,W] · [B,C,1,1]
        return (1, step.Output);
    }

    /// <summary>The layer's module. Children: reduce, expand (1×1 convolutions with bias).</summary>
    private sealed class Block : nn.Module<Tensor, Tensor>
    {
        public Block(int channels, int squeezed) : base("SqueezeExcitation")
        {
            reduce = nn.Conv2d(channels, squeezed, 1);
            expand = nn.Conv2d(squeezed, channels, 1);
            RegisterComponents();
        }

#pragma warning disable IDE1006 // TorchSharp names parameters after fields.
        public readonly Conv2d reduce;
        public readonly Conv2d expand;
#pragma warning restore IDE1006

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var gate = nn.functional.hardsigmoid(expand.forward(nn.functional.relu(reduce.forward(input.mean([2, 3], keepdim: true)))));
            return (input * gate).MoveToOuterDisposeScope();
        }
    }
}
