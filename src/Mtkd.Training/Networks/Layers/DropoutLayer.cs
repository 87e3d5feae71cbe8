using Mtkd.Training.Onnx;
using static TorchSharp.torch;

namespace Mtkd.Training.Networks;

/// <summary>Dropout while training; the identity in evaluation and in the exported model.</summary>
public sealed record DropoutLayer(double Probability = 0.5) : LayerSpec
{
    internal override ActivationShape OutputShape(ActivationShape input, int classCount) => input;

    internal override nn.Module<Tensor, Tensor> CreateModule(ActivationShape input, ActivationShape output) => nn.Dropout(Probability);

    internal override (int Layers, string Output) Export(OnnxGraphBuilder graph, OnnxLayerStep step)
    {
        // Identity at inference; only the final layer needs a node, to carry the output name.
        if (!step.IsLast)
            return (1, step.Input);
        graph.AddNode("Identity", step.Name, [step.Input], step.Output);
        return (1, step.Output);
    }
}
