using static TorchSharp.torch;

namespace Mtkd.Training.Distillation.Methods;

/// <summary>
/// "confidence": per-sample teacher weights from each teacher's cross-entropy against the true label,
/// w_k = (1 − exp(CE_k) / Σ_j exp(CE_j)) / (K − 1) (CA-MKD, Zhang et al. 2022; its logit term only).
/// </summary>
public sealed record Confidence : DistillationMethod
{
    internal override Tensor Loss(Tensor studentLogits, DistillationBatch batch)
    {
        using var scope = NewDisposeScope();
        var teachers = batch.RequireTeacherLogits(Name);
        var weights = Weights(teachers, batch.Targets);
        var soft = (weights * DistillationLoss.PerTeacherKl(studentLogits.unsqueeze(1), teachers, batch.Temperature)).sum(1).mean();
        return DistillationLoss.Combine(soft, batch.HardLoss(studentLogits), batch.Temperature, batch.Alpha).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// CA-MKD's per-sample teacher weights [B, K], summing to 1 over teachers (a single teacher gets 1): CE_k is teacher
    /// k's cross-entropy to the row's target distribution, so an unlabelled row (no target) weighs every teacher 1/K.
    /// </summary>
    internal static Tensor Weights(Tensor teacherLogits, LabelTargets targets)
    {
        long k = teacherLogits.shape[1];
        if (k == 1)
            return ones(teacherLogits.shape[0], 1, dtype: teacherLogits.dtype);
        using var scope = NewDisposeScope();
        var logProbabilities = nn.functional.log_softmax(teacherLogits, dim: 2);
        var crossEntropy = -(logProbabilities * targets.Distribution.unsqueeze(1)).sum(2); // [B, K]
        var share = nn.functional.softmax(crossEntropy, dim: 1); // exp(CE_k) / Σ_j exp(CE_j)
        return ((1 - share) / (k - 1)).detach().MoveToOuterDisposeScope();
    }
}
