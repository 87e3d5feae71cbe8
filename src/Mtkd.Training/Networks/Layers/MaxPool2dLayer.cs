using Mtkd.Training.Onnx;
using static TorchSharp.torch;

namespace Mtkd.Training.Networks;

/// <summary>Max pooling with a square window and stride equal to the window.</summary>
public sealed record MaxPool2dLayer(int Kernel = 2) : LayerSpec
{
    internal override ActivationShape OutputShape(ActivationShape input, int classCount) =>
        Spatial(input, input.Channels, input.Height / Kernel, input.Width / Kernel);

    internal override nn.Module<Tensor, Tensor> CreateModule(ActivationShape input, ActivationShape output) => nn.MaxPool2d(Kernel, Kernel);

    internal override (int Layers, string Output) Export(OnnxGraphBuilder graph, OnnxLayerStep step)
    {
        graph.AddNode("MaxPool", step.Name, [step.Input], step.Output,
            OnnxGraphBuilder.Ints("kernel_shape", Kernel, Kernel), OnnxGraphBuilder.Ints("strides", Kernel, Kernel));
        return (1, step.Output);
    }
}
