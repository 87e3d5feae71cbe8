using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Networks;

/// <summary>The module of a <see cref="DepthwiseSeparableLayer"/>. Children: depthwise, bn1, pointwise, bn2.</summary>
public sealed class DepthwiseSeparableBlock : nn.Module<Tensor, Tensor>
{
    public DepthwiseSeparableBlock(int inChannels, int outChannels, int stride) : base(nameof(DepthwiseSeparableBlock))
    {
        depthwise = nn.Conv2d(inChannels, inChannels, 3, stride: stride, padding: 1, groups: inChannels, bias: false);
        bn1 = nn.BatchNorm2d(inChannels);
        pointwise = nn.Conv2d(inChannels, outChannels, 1, bias: false);
        bn2 = nn.BatchNorm2d(outChannels);
        Stride = stride;
        RegisterComponents();
    }

#pragma warning disable IDE1006 // TorchSharp names parameters after fields.
    public readonly Conv2d depthwise;
    public readonly BatchNorm2d bn1;
    public readonly Conv2d pointwise;
    public readonly BatchNorm2d bn2;
#pragma warning restore IDE1006

    public int Stride { get; }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = nn.functional.relu(bn1.forward(depthwise.forward(input)));
        return nn.functional.relu(bn2.forward(pointwise.forward(x))).MoveToOuterDisposeScope();
    }
}
