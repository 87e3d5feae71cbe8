using Mtkd.Training.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Networks;

/// <summary>
/// A ResNet basic block (He et al. 2016): 3×3 conv (stride) → BN → ReLU → 3×3 conv → BN, plus a shortcut (the
/// identity, or a 1×1 conv with stride and BN when the shape changes), then ReLU. Convolutions have no bias.
/// </summary>
public sealed record ResidualBlockLayer(int OutChannels, int Stride = 1) : LayerSpec
{
    internal override LayerSpec Narrowed(double factor) => this with { OutChannels = Scaled(OutChannels, factor) };

    internal override ActivationShape OutputShape(ActivationShape input, int classCount) =>
        Spatial(input, OutChannels, (input.Height - 1) / Stride + 1, (input.Width - 1) / Stride + 1);

    internal override nn.Module<Tensor, Tensor> CreateModule(ActivationShape input, ActivationShape output) => new Block(input.Channels, OutChannels, Stride);

    internal override NetworkComplexity Cost(ActivationShape input, ActivationShape output)
    {
        long pixels = (long)output.Height * output.Width; // both convolutions run at the output resolution
        long parameters = 9L * input.Channels * OutChannels + 9L * OutChannels * OutChannels + 4L * OutChannels;
        long macs = pixels * 9 * input.Channels * OutChannels + pixels * 9 * OutChannels * OutChannels;
        if (HasProjection(input.Channels))
        {
            parameters += (long)input.Channels * OutChannels + 2L * OutChannels;
            macs += pixels * input.Channels * OutChannels;
        }
        return new NetworkComplexity(parameters, macs);
    }

    internal override (int Layers, string Output) Export(OnnxGraphBuilder graph, OnnxLayerStep step)
    {
        var (block, name, input) = ((Block)step.Module, step.Name, step.Input);
        graph.AddConvBatchNorm($"{name}.conv1", $"{name}.bn1", input, $"{name}.bn1.output", block.conv1, block.bn1, 3, Stride, 1, 1, step.Fold);
        graph.AddNode("Relu", $"{name}.relu1", [$"{name}.bn1.output"], $"{name}.relu1.output");
        graph.AddConvBatchNorm($"{name}.conv2", $"{name}.bn2", $"{name}.relu1.output", $"{name}.bn2.output", block.conv2, block.bn2, 3, 1, 1, 1, step.Fold);
        string shortcut = input;
        if (block.shortcut_conv is { } conv)
        {
            graph.AddConvBatchNorm($"{name}.shortcut_conv", $"{name}.shortcut_bn", input, $"{name}.shortcut.output", conv, block.shortcut_bn!, 1, Stride, 0, 1, step.Fold);
            shortcut = $"{name}.shortcut.output";
        }
        graph.AddNode("Add", $"{name}.add", [$"{name}.bn2.output", shortcut], $"{name}.sum");
        graph.AddNode("Relu", name, [$"{name}.sum"], step.Output);
        return (1, step.Output);
    }

    private bool HasProjection(int inChannels) => Stride != 1 || inChannels != OutChannels;

    /// <summary>The block's module; child names (conv1, bn1, conv2, bn2, shortcut_conv, shortcut_bn) name its parameters and ONNX nodes.</summary>
    private sealed class Block : nn.Module<Tensor, Tensor>
    {
        public Block(int inChannels, int outChannels, int stride) : base("ResidualBlock")
        {
            conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: 1, bias: false);
            bn1 = nn.BatchNorm2d(outChannels);
            conv2 = nn.Conv2d(outChannels, outChannels, 3, stride: 1, padding: 1, bias: false);
            bn2 = nn.BatchNorm2d(outChannels);
            if (stride != 1 || inChannels != outChannels)
            {
                shortcut_conv = nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false);
                shortcut_bn = nn.BatchNorm2d(outChannels);
            }
            RegisterComponents();
        }

#pragma warning disable IDE1006 // TorchSharp names parameters after fields; snake_case matches PyTorch's state dicts.
        public readonly Conv2d conv1;
        public readonly BatchNorm2d bn1;
        public readonly Conv2d conv2;
        public readonly BatchNorm2d bn2;
        public readonly Conv2d? shortcut_conv;
        public readonly BatchNorm2d? shortcut_bn;
#pragma warning restore IDE1006

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var main = bn2.forward(conv2.forward(nn.functional.relu(bn1.forward(conv1.forward(input)))));
            var shortcut = shortcut_conv is null ? input : shortcut_bn!.forward(shortcut_conv.forward(input));
            return nn.functional.relu(main + shortcut).MoveToOuterDisposeScope();
        }
    }
}
