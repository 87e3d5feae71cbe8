using Mtkd.Training.Onnx;
using static TorchSharp.torch;

namespace Mtkd.Training.Networks;

/// <summary>Averages each channel over its map: C×H×W → [C]. Makes a network independent of the input size.</summary>
public sealed record GlobalAveragePoolLayer : LayerSpec
{
    internal override ActivationShape OutputShape(ActivationShape input, int classCount) =>
        input.Flat ? throw new LayerMisfitException("C×H×W feature maps") : new ActivationShape(input.Channels, 1, 1, true);

    internal override nn.Module<Tensor, Tensor> CreateModule(ActivationShape input, ActivationShape output) => new Pool();

    internal override (int Layers, string Output) Export(OnnxGraphBuilder graph, OnnxLayerStep step)
    {
        graph.AddNode("GlobalAveragePool", $"{step.Name}.pool", [step.Input], $"{step.Name}.pooled");
        graph.AddNode("Flatten", step.Name, [$"{step.Name}.pooled"], step.Output, OnnxGraphBuilder.Int("axis", 1));
        return (1, step.Output);
    }

    /// <summary>[B, C, H, W] → [B, C].</summary>
    private sealed class Pool() : nn.Module<Tensor, Tensor>("GlobalAveragePool")
    {
        public override Tensor forward(Tensor input) => input.mean([2, 3]);
    }
}
