using Mtkd.Training.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Networks;

/// <summary>A MobileNet block (Howard et al. 2017): 3×3 depthwise conv (stride) → BN → ReLU → 1×1 conv → BN → ReLU, without biases.</summary>
public sealed record DepthwiseSeparableLayer(int OutChannels, int Stride = 1) : LayerSpec
{
    internal override LayerSpec Narrowed(double factor) => this with { OutChannels = Scaled(OutChannels, factor) };

    internal override ActivationShape OutputShape(ActivationShape input, int classCount) =>
        Spatial(input, OutChannels, (input.Height - 1) / Stride + 1, (input.Width - 1) / Stride + 1);

    internal override nn.Module<Tensor, Tensor> CreateModule(ActivationShape input, ActivationShape output) => new Block(input.Channels, OutChannels, Stride);

    internal override NetworkComplexity Cost(ActivationShape input, ActivationShape output)
    {
        long pixels = (long)output.Height * output.Width;
        return new NetworkComplexity(9L * input.Channels + 2L * input.Channels + (long)input.Channels * OutChannels + 2L * OutChannels,
            pixels * 9 * input.Channels + pixels * input.Channels * OutChannels);
    }

    internal override (int Layers, string Output) Export(OnnxGraphBuilder graph, OnnxLayerStep step)
    {
        var (block, name) = ((Block)step.Module, step.Name);
        int inChannels = (int)block.depthwise.weight!.shape[0];
        graph.AddConvBatchNorm($"{name}.depthwise", $"{name}.bn1", step.Input, $"{name}.bn1.output", block.depthwise, block.bn1, 3, Stride, 1, inChannels, step.Fold);
        graph.AddNode("Relu", $"{name}.relu1", [$"{name}.bn1.output"], $"{name}.relu1.output");
        graph.AddConvBatchNorm($"{name}.pointwise", $"{name}.bn2", $"{name}.relu1.output", $"{name}.bn2.output", block.pointwise, block.bn2, 1, 1, 0, 1, step.Fold);
        graph.AddNode("Relu", $"{name}.relu2", [$"{name}.bn2.output"], step.Output);
        return (1, step.Output);
    }

    /// <summary>The block's module. Children: depthwise, bn1, pointwise, bn2.</summary>
    private sealed class Block : nn.Module<Tensor, Tensor>
    {
        public Block(int inChannels, int outChannels, int stride) : base("DepthwiseSeparableBlock")
        {
            depthwise = nn.Conv2d(inChannels, inChannels, 3, stride: stride, padding: 1, groups: inChannels, bias: false);
            bn1 = nn.BatchNorm2d(inChannels);
            pointwise = nn.Conv2d(inChannels, outChannels, 1, bias: false);
            bn2 = nn.BatchNorm2d(outChannels);
            RegisterComponents();
        }

#pragma warning disable IDE1006 // TorchSharp names parameters after fields.
        public readonly Conv2d depthwise;
        public readonly BatchNorm2d bn1;
        public readonly Conv2d pointwise;
        public readonly BatchNorm2d bn2;
#pragma warning restore IDE1006

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var x = nn.functional.relu(bn1.forward(depthwise.forward(input)));
            return nn.functional.relu(bn2.forward(pointwise.forward(x))).MoveToOuterDisposeScope();
        }
    }
}
