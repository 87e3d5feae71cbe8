using static TorchSharp.torch;

namespace Mtkd.Training.Distillation;

/// <summary>
/// What the hard-label term of a batch aims at: a target distribution per row, [B, C], and a weight per row, [B],
/// 1 where the row has a label and 0 where it has none (an unlabelled image, or a mix with one). One form covers
/// plain labels, label smoothing and mixup/CutMix, whose rows mix two labels with the batch's λ.
/// </summary>
internal sealed class LabelTargets : IDisposable
{
    private LabelTargets(Tensor distribution, Tensor weight)
    {
        Distribution = distribution;
        Weight = weight;
    }

    /// <summary>[B, C]; a row of zeros where <see cref="Weight"/> is 0.</summary>
    public Tensor Distribution { get; }

    /// <summary>[B], 1 for rows the hard term counts, 0 for the others.</summary>
    public Tensor Weight { get; }

    /// <summary>
    /// Targets (1 − ε)·one-hot + ε/C from int64 labels [B], where a negative label means none; with
    /// <paramref name="mix"/>, row i becomes λ·target(i) + (1 − λ)·target(perm[i]) and counts only if both are labelled.
    /// </summary>
    public static LabelTargets From(Tensor labels, int classCount, double labelSmoothing = 0, BatchMix? mix = null)
    {
        using var scope = NewDisposeScope();
        var labeled = labels.ge(0);
        var oneHot = nn.functional.one_hot(labels.clamp_min(0), classCount).to(ScalarType.Float32);
        var distribution = labelSmoothing == 0 ? oneHot : oneHot * (1 - labelSmoothing) + labelSmoothing / classCount;
        distribution = distribution * labeled.unsqueeze(1).to(ScalarType.Float32);
        var weight = labeled.to(ScalarType.Float32);
        if (mix is not null)
        {
            distribution = mix.Lambda * distribution + (1 - mix.Lambda) * distribution.index_select(0, mix.Permutation);
            weight = weight * weight.index_select(0, mix.Permutation);
            distribution = distribution * weight.unsqueeze(1);
        }
        return new LabelTargets(distribution.MoveToOuterDisposeScope(), weight.MoveToOuterDisposeScope());
    }

    /// <summary>Mean over the counted rows of −Σ_c target·log q; 0 for a batch with none.</summary>
    public Tensor CrossEntropy(Tensor logProbabilities)
    {
        using var scope = NewDisposeScope();
        var perRow = -(Distribution * logProbabilities).sum(1);
        return ((perRow * Weight).sum() / Weight.sum().clamp_min(1)).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Distribution.Dispose();
        Weight.Dispose();
    }
}
