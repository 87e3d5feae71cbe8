namespace Mtkd.Training.Distillation;

/// <summary>
/// How the teachers' knowledge reaches the student. T is the temperature, α the weight of the hard-label
/// cross-entropy; every soft term is scaled by T² (Hinton et al. 2015) and weighted 1 − α.
/// </summary>
public enum DistillationMode
{
    /// <summary>"output_avg": KL from the mean of the teachers' softened probabilities to the student's (Zuchniak 2023).</summary>
    OutputAverage,

    /// <summary>"logit_avg": KL from softmax(mean of the teachers' logits / T), the output_avg variant on logits.</summary>
    LogitAverage,

    /// <summary>"loss_avg": the mean over teachers of the KL from each teacher to the student.</summary>
    LossAverage,

    /// <summary>
    /// "mimic_all": one student head per teacher on a shared body, head k imitating teacher k; the prediction, and
    /// the hard-label term, use the mean of the heads' probabilities.
    /// </summary>
    MimicAll,

    /// <summary>"supernet": a linear aggregator over the concatenated teacher logits, trained on the training labels first and then frozen, is the single teacher.</summary>
    Supernet,

    /// <summary>"supernet2": as supernet, over the teachers' penultimate features instead of their logits.</summary>
    Supernet2,

    /// <summary>
    /// "confidence": per-sample teacher weights from each teacher's cross-entropy against the true label,
    /// w_k = (1 − exp(CE_k) / Σ_j exp(CE_j)) / (K − 1) (CA-MKD, Zhang et al. 2022; its logit term only).
    /// </summary>
    Confidence,
}

/// <summary>The snake_case names the paper and the CLI use.</summary>
internal static class DistillationModes
{
    private static readonly (DistillationMode Mode, string Name)[] Names =
    [
        (DistillationMode.OutputAverage, "output_avg"), (DistillationMode.LogitAverage, "logit_avg"), (DistillationMode.LossAverage, "loss_avg"),
        (DistillationMode.MimicAll, "mimic_all"), (DistillationMode.Supernet, "supernet"), (DistillationMode.Supernet2, "supernet2"),
        (DistillationMode.Confidence, "confidence"),
    ];

    public static IReadOnlyList<string> All { get; } = Names.Select(n => n.Name).ToArray();

    public static string Name(this DistillationMode mode) => Names.First(n => n.Mode == mode).Name;

    public static DistillationMode Parse(string name) =>
        Names.FirstOrDefault(n => n.Name == name.ToLowerInvariant()) is { Name: not null } found ? found.Mode
            : throw new ArgumentException($"Unknown distillation mode '{name}'; expected one of: {string.Join(", ", All)}.", nameof(name));
}
