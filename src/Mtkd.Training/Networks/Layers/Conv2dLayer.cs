using Mtkd.Training.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Networks;

/// <summary>2-D convolution with a square kernel, with bias.</summary>
public sealed record Conv2dLayer(int OutChannels, int Kernel = 3, int Stride = 1, int Padding = 1) : LayerSpec
{
    internal override ActivationShape OutputShape(ActivationShape input, int classCount) =>
        Spatial(input, OutChannels, (input.Height + 2 * Padding - Kernel) / Stride + 1, (input.Width + 2 * Padding - Kernel) / Stride + 1);

    internal override LayerSpec Narrowed(double factor) => this with { OutChannels = Scaled(OutChannels, factor) };

    internal override nn.Module<Tensor, Tensor> CreateModule(ActivationShape input, ActivationShape output) =>
        nn.Conv2d(input.Channels, OutChannels, Kernel, stride: Stride, padding: Padding);

    internal override NetworkComplexity Cost(ActivationShape input, ActivationShape output) =>
        new((long)OutChannels * input.Channels * Kernel * Kernel + OutChannels, (long)output.Height * output.Width * OutChannels * input.Channels * Kernel * Kernel);

    internal override (int Layers, string Output) Export(OnnxGraphBuilder graph, OnnxLayerStep step)
    {
        if (step.Fold && step.Next is BatchNorm2dLayer)
        {
            // The batch norm's node disappears; its output name stays, so later nodes read the same value.
            graph.AddConvBatchNorm(step.Name, step.NextName!, step.Input, step.NextOutput!, (Conv2d)step.Module, (BatchNorm2d)step.NextModule!,
                Kernel, Stride, Padding, group: 1, fold: true);
            return (2, step.NextOutput!);
        }
        graph.AddConv(step.Name, step.Input, step.Output, (Conv2d)step.Module, Kernel, Stride, Padding, group: 1);
        return (1, step.Output);
    }
}
