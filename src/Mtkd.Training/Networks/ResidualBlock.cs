using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Networks;

/// <summary>The module of a <see cref="ResidualBlockLayer"/>. Child names (conv1, bn1, conv2, bn2, shortcut_conv, shortcut_bn) name the exported ONNX nodes.</summary>
public sealed class ResidualBlock : nn.Module<Tensor, Tensor>
{
    public ResidualBlock(int inChannels, int outChannels, int stride) : base(nameof(ResidualBlock))
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
        Stride = stride;
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

    public int Stride { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var main = bn2.forward(conv2.forward(nn.functional.relu(bn1.forward(conv1.forward(input)))));
        var shortcut = shortcut_conv is null ? input : shortcut_bn!.forward(shortcut_conv.forward(input));
        return nn.functional.relu(main + shortcut).MoveToOuterDisposeScope();
    }
}
