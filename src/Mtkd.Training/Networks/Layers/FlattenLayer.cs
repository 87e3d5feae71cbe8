using Mtkd.Training.Onnx;
using static TorchSharp.torch;

namespace Mtkd.Training.Networks;

/// <summary>Flattens C×H×W into one feature vector per image.</summary>
public sealed record FlattenLayer : LayerSpec
{
    internal override ActivationShape OutputShape(ActivationShape input, int classCount) => new(input.Size, 1, 1, true);

    internal override nn.Module<Tensor, Tensor> CreateModule(ActivationShape input, ActivationShape output) => nn.Flatten();

    internal override (int Layers, string Output) Export(OnnxGraphBuilder graph, OnnxLayerStep step)
    {
        graph.AddNode("Flatten", step.Name, [step.Input], step.Output, OnnxGraphBuilder.Int("axis", 1));
        return (1, step.Output);
    }
}
