using Mtkd.Training.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Networks;

/// <summary>Fully connected layer; <see cref="OutFeatures"/> = 0 means "the number of classes".</summary>
public sealed record LinearLayer(int OutFeatures = 0) : LayerSpec
{
    // The classifier (OutFeatures 0: the class count) keeps its size.
    internal override LayerSpec Narrowed(double factor) => OutFeatures == 0 ? this : this with { OutFeatures = Scaled(OutFeatures, factor) };

    internal override ActivationShape OutputShape(ActivationShape input, int classCount) => input.Flat
        ? new ActivationShape(OutFeatures > 0 ? OutFeatures : classCount, 1, 1, true)
        : throw new LayerMisfitException("a flat input; add a Flatten layer before it");

    internal override nn.Module<Tensor, Tensor> CreateModule(ActivationShape input, ActivationShape output) => nn.Linear(input.Size, output.Channels);

    internal override NetworkComplexity Cost(ActivationShape input, ActivationShape output) =>
        new((long)input.Size * output.Channels + output.Channels, (long)input.Size * output.Channels);

    internal override (int Layers, string Output) Export(OnnxGraphBuilder graph, OnnxLayerStep step)
    {
        if (step.Fold && step.Next is BatchNorm1dLayer)
        {
            // The batch norm's node disappears; its output name stays, so later nodes read the same value.
            graph.AddLinearBatchNorm(step.Name, step.Input, step.NextOutput!, (Linear)step.Module, (BatchNorm1d)step.NextModule!);
            return (2, step.NextOutput!);
        }
        graph.AddLinear(step.Name, step.Input, step.Output, (Linear)step.Module);
        return (1, step.Output);
    }
}
