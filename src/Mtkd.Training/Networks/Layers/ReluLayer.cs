using Mtkd.Training.Onnx;
using static TorchSharp.torch;

namespace Mtkd.Training.Networks;

/// <summary>max(0, x), element-wise.</summary>
public sealed record ReluLayer : LayerSpec
{
    internal override ActivationShape OutputShape(ActivationShape input, int classCount) => input;

    internal override nn.Module<Tensor, Tensor> CreateModule(ActivationShape input, ActivationShape output) => nn.ReLU();

    internal override (int Layers, string Output) Export(OnnxGraphBuilder graph, OnnxLayerStep step)
    {
        graph.AddNode("Relu", step.Name, [step.Input], step.Output);
        return (1, step.Output);
    }
}
