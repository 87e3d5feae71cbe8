using Mtkd.Training.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Networks;

/// <summary>Batch normalization of a feature vector (after Flatten or Linear; eps 1e-5, momentum 0.1, as PyTorch's BatchNorm1d).</summary>
public sealed record BatchNorm1dLayer : LayerSpec
{
    internal override ActivationShape OutputShape(ActivationShape input, int classCount) => input.Flat
        ? input
        : throw new LayerMisfitException("a flat input (a feature vector); use BatchNorm2dLayer on feature maps");

    internal override nn.Module<Tensor, Tensor> CreateModule(ActivationShape input, ActivationShape output) => nn.BatchNorm1d(input.Size);

    internal override NetworkComplexity Cost(ActivationShape input, ActivationShape output) => new(2L * input.Size, 0);

    internal override (int Layers, string Output) Export(OnnxGraphBuilder graph, OnnxLayerStep step)
    {
        graph.AddBatchNorm(step.Name, step.Input, step.Output, (BatchNorm1d)step.Module);
        return (1, step.Output);
    }
}
