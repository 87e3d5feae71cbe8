using static TorchSharp.torch;

namespace Mtkd.Training.Networks;

/// <summary>The module of a <see cref="GlobalAveragePoolLayer"/>: [B, C, H, W] → [B, C].</summary>
public sealed class GlobalAveragePool() : nn.Module<Tensor, Tensor>(nameof(GlobalAveragePool))
{
    public override Tensor forward(Tensor input) => input.mean([2, 3]);
}
