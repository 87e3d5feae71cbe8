using static TorchSharp.torch;

namespace Mtkd.Training.Distillation;

/// <summary>
/// The arithmetic the methods share: loss = (1 − α)·T²·soft + α·hard, where hard is the (optionally label-smoothed)
/// cross-entropy against the true labels and soft is the method's. The T² factor keeps the soft-target gradients on
/// the scale of the hard-label ones as T changes. The soft term is the mean over every row of the batch; the hard
/// term the mean over the rows that have a label (see <see cref="LabelTargets"/>), 0 in a batch without any, so
/// unlabelled images teach through the teachers alone. Each method's own formula is in its file (Distillation/Methods).
/// </summary>
internal static class DistillationLoss
{
    /// <summary>Cross-entropy against <paramref name="targets"/>, the mean over the rows they count.</summary>
    public static Tensor HardLoss(Tensor logits, LabelTargets targets)
    {
        using var scope = NewDisposeScope();
        return targets.CrossEntropy(nn.functional.log_softmax(logits, dim: 1)).MoveToOuterDisposeScope();
    }

    /// <summary>log of the mean of the heads' probabilities, [B, K, C] → [B, C]: what a mimic_all student predicts.</summary>
    public static Tensor MeanOfHeadsLogProbabilities(Tensor headLogits) =>
        nn.functional.log_softmax(headLogits, dim: 2).logsumexp(1) - Math.Log(headLogits.shape[1]);

    /// <summary>KL(softmax(teacher_k / T) ‖ softmax(student_k / T)) per sample and teacher, [B, K]; student [B, 1 or K, C].</summary>
    public static Tensor PerTeacherKl(Tensor student, Tensor teachers, double temperature)
    {
        var target = nn.functional.softmax(teachers / temperature, dim: 2);
        var logQ = nn.functional.log_softmax(student / temperature, dim: 2);
        return (target * (target.clamp_min(1e-12).log() - logQ)).sum(2);
    }

    /// <summary>Σ p·(log p − log q) per sample, with 0·log 0 taken as 0.</summary>
    public static Tensor KlDivergence(Tensor target, Tensor logQ) => (target * (target.clamp_min(1e-12).log() - logQ)).sum(1);

    /// <summary>(1 − α)·T²·soft + α·hard.</summary>
    public static Tensor Combine(Tensor soft, Tensor hard, double temperature, double alpha) =>
        (1 - alpha) * temperature * temperature * soft + alpha * hard;
}
