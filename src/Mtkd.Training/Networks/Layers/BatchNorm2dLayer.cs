using Mtkd.Training.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Networks;

/// <summary>Batch normalization over channels (eps 1e-5, momentum 0.1, as PyTorch).</summary>
public sealed record BatchNorm2dLayer : LayerSpec
{
    internal override ActivationShape OutputShape(ActivationShape input, int classCount) => Spatial(input, input.Channels, input.Height, input.Width);

    internal override nn.Module<Tensor, Tensor> CreateModule(ActivationShape input, ActivationShape output) => nn.BatchNorm2d(input.Channels);

    internal override NetworkComplexity Cost(ActivationShape input, ActivationShape output) => new(2L * input.Channels, 0);

    internal override (int Layers, string Output) Export(OnnxGraphBuilder graph, OnnxLayerStep step)
    {
        graph.AddBatchNorm(step.Name, step.Input, step.Output, (BatchNorm2d)step.Module);
        return (1, step.Output);
    }
}
