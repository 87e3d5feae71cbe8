using static TorchSharp.torch;

namespace Mtkd.Training.Distillation;

/// <summary>
/// How a training batch was mixed (mixup or CutMix): row i holds λ of image i and 1 − λ of image
/// <see cref="Permutation"/>[i] (for CutMix, λ is the share of the area that stayed image i's).
/// </summary>
/// <param name="Permutation">int64 [B], row indices within the batch.</param>
/// <param name="Lambda">The batch's λ in [0, 1].</param>
internal sealed record BatchMix(Tensor Permutation, double Lambda)
{
    /// <summary>
    /// Stored teacher logits [B, K, C] of the unmixed images, mixed as probabilities at temperature T and returned as
    /// T·log p, so that softmax(· / T) of the result is exactly λ·p_i + (1 − λ)·p_perm[i]: what the losses then read.
    /// Online teachers need none of this: they score the mixed images themselves.
    /// </summary>
    public Tensor MixTeacherLogits(Tensor teacherLogits, double temperature)
    {
        using var scope = NewDisposeScope();
        var p = nn.functional.softmax(teacherLogits / temperature, dim: 2);
        var mixed = Lambda * p + (1 - Lambda) * p.index_select(0, Permutation);
        return (mixed.clamp_min(1e-12).log() * temperature).MoveToOuterDisposeScope();
    }
}
