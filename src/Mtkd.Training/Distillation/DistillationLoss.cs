using static TorchSharp.torch;

namespace Mtkd.Training.Distillation;

/// <summary>
/// The multi-teacher distillation losses: loss = (1 − α)·T²·soft + α·hard, where hard is the (optionally
/// label-smoothed) cross-entropy against the true labels and soft depends on the <see cref="DistillationMode"/>.
/// The T² factor keeps the soft-target gradients on the scale of the hard-label ones as T changes.
/// Shapes: student logits [B, C] (mimic_all: [B, K, C], one row per head), teacher logits [B, K, C], labels [B] int64.
/// </summary>
public static class DistillationLoss
{
    /// <summary>The loss of <paramref name="options"/>' mode. Supernet modes take the aggregator's output as a single teacher [B, 1, C].</summary>
    public static Tensor Compute(DistillationOptions options, Tensor student, Tensor teachers, Tensor labels) => options.Mode switch
    {
        DistillationMode.OutputAverage or DistillationMode.Supernet or DistillationMode.Supernet2 =>
            OutputAverage(student, teachers, labels, options.Temperature, options.Alpha, options.LabelSmoothing),
        DistillationMode.LogitAverage => LogitAverage(student, teachers, labels, options.Temperature, options.Alpha, options.LabelSmoothing),
        DistillationMode.LossAverage => LossAverage(student, teachers, labels, options.Temperature, options.Alpha, options.LabelSmoothing),
        DistillationMode.MimicAll => MimicAll(student, teachers, labels, options.Temperature, options.Alpha, options.LabelSmoothing),
        DistillationMode.Confidence => Confidence(student, teachers, labels, options.Temperature, options.Alpha, options.LabelSmoothing),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Mode, "Unknown distillation mode."),
    };

    /// <summary>output_avg: soft = KL(p̄ ‖ q), p̄ the mean over teachers of softmax(teacher / T), q = softmax(student / T).</summary>
    public static Tensor OutputAverage(Tensor studentLogits, Tensor teacherLogits, Tensor labels, double temperature, double alpha, double labelSmoothing = 0)
    {
        using var scope = NewDisposeScope();
        var target = nn.functional.softmax(teacherLogits / temperature, dim: 2).mean([1]);
        var soft = KlDivergence(target, nn.functional.log_softmax(studentLogits / temperature, dim: 1)).mean();
        return Combine(soft, HardLoss(studentLogits, labels, labelSmoothing), temperature, alpha).MoveToOuterDisposeScope();
    }

    /// <summary>logit_avg: soft = KL(softmax(mean of teacher logits / T) ‖ q).</summary>
    public static Tensor LogitAverage(Tensor studentLogits, Tensor teacherLogits, Tensor labels, double temperature, double alpha, double labelSmoothing = 0)
    {
        using var scope = NewDisposeScope();
        var target = nn.functional.softmax(teacherLogits.mean([1]) / temperature, dim: 1);
        var soft = KlDivergence(target, nn.functional.log_softmax(studentLogits / temperature, dim: 1)).mean();
        return Combine(soft, HardLoss(studentLogits, labels, labelSmoothing), temperature, alpha).MoveToOuterDisposeScope();
    }

    /// <summary>loss_avg: soft = mean over teachers k of KL(softmax(teacher_k / T) ‖ q).</summary>
    public static Tensor LossAverage(Tensor studentLogits, Tensor teacherLogits, Tensor labels, double temperature, double alpha, double labelSmoothing = 0)
    {
        using var scope = NewDisposeScope();
        var soft = PerTeacherKl(studentLogits.unsqueeze(1), teacherLogits, temperature).mean();
        return Combine(soft, HardLoss(studentLogits, labels, labelSmoothing), temperature, alpha).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// mimic_all: soft = mean over k of KL(softmax(teacher_k / T) ‖ softmax(head_k / T)); hard = −log of the mean of
    /// the heads' probabilities at the true class (smoothed targets when ε &gt; 0), the prediction the student makes.
    /// </summary>
    public static Tensor MimicAll(Tensor headLogits, Tensor teacherLogits, Tensor labels, double temperature, double alpha, double labelSmoothing = 0)
    {
        if (headLogits.dim() != 3 || headLogits.shape[1] != teacherLogits.shape[1])
            throw new ArgumentException($"mimic_all needs one student head per teacher: heads [{string.Join(", ", headLogits.shape)}], teachers [{string.Join(", ", teacherLogits.shape)}].");
        using var scope = NewDisposeScope();
        var soft = PerTeacherKl(headLogits, teacherLogits, temperature).mean();
        var logMean = MeanOfHeadsLogProbabilities(headLogits);
        return Combine(soft, SmoothedNll(logMean, labels, labelSmoothing), temperature, alpha).MoveToOuterDisposeScope();
    }

    /// <summary>log of the mean of the heads' probabilities, [B, K, C] → [B, C]: what a mimic_all student predicts.</summary>
    public static Tensor MeanOfHeadsLogProbabilities(Tensor headLogits) =>
        nn.functional.log_softmax(headLogits, dim: 2).logsumexp(1) - Math.Log(headLogits.shape[1]);

    /// <summary>confidence (CA-MKD): soft = Σ_k w_k·KL(softmax(teacher_k / T) ‖ q), w_k = (1 − exp(CE_k)/Σ_j exp(CE_j)) / (K − 1) per sample.</summary>
    public static Tensor Confidence(Tensor studentLogits, Tensor teacherLogits, Tensor labels, double temperature, double alpha, double labelSmoothing = 0)
    {
        using var scope = NewDisposeScope();
        var weights = ConfidenceWeights(teacherLogits, labels);
        var soft = (weights * PerTeacherKl(studentLogits.unsqueeze(1), teacherLogits, temperature)).sum(1).mean();
        return Combine(soft, HardLoss(studentLogits, labels, labelSmoothing), temperature, alpha).MoveToOuterDisposeScope();
    }

    /// <summary>CA-MKD's per-sample teacher weights [B, K]; they sum to 1 over teachers (a single teacher gets 1).</summary>
    public static Tensor ConfidenceWeights(Tensor teacherLogits, Tensor labels)
    {
        long k = teacherLogits.shape[1];
        if (k == 1)
            return ones(teacherLogits.shape[0], 1, dtype: teacherLogits.dtype);
        using var scope = NewDisposeScope();
        var logProbabilities = nn.functional.log_softmax(teacherLogits, dim: 2);
        var crossEntropy = -logProbabilities.gather(2, labels.view(-1, 1, 1).expand(-1, k, 1)).squeeze(2); // [B, K]
        var share = nn.functional.softmax(crossEntropy, dim: 1); // exp(CE_k) / Σ_j exp(CE_j)
        return ((1 - share) / (k - 1)).detach().MoveToOuterDisposeScope();
    }

    /// <summary>Cross-entropy with targets (1 − ε)·one-hot + ε/C.</summary>
    public static Tensor HardLoss(Tensor logits, Tensor labels, double labelSmoothing) =>
        SmoothedNll(nn.functional.log_softmax(logits, dim: 1), labels, labelSmoothing);

    private static Tensor SmoothedNll(Tensor logProbabilities, Tensor labels, double labelSmoothing)
    {
        using var scope = NewDisposeScope();
        var nll = -logProbabilities.gather(1, labels.view(-1, 1)).squeeze(1);
        var loss = labelSmoothing == 0 ? nll : (1 - labelSmoothing) * nll - labelSmoothing * logProbabilities.mean([1]);
        return loss.mean().MoveToOuterDisposeScope();
    }

    // KL(softmax(teacher_k / T) ‖ softmax(student_k / T)) per sample and teacher, [B, K]; student [B, 1 or K, C].
    private static Tensor PerTeacherKl(Tensor student, Tensor teachers, double temperature)
    {
        var target = nn.functional.softmax(teachers / temperature, dim: 2);
        var logQ = nn.functional.log_softmax(student / temperature, dim: 2);
        return (target * (target.clamp_min(1e-12).log() - logQ)).sum(2);
    }

    // Σ p·(log p − log q) per sample, with 0·log 0 taken as 0.
    private static Tensor KlDivergence(Tensor target, Tensor logQ) => (target * (target.clamp_min(1e-12).log() - logQ)).sum(1);

    private static Tensor Combine(Tensor soft, Tensor hard, double temperature, double alpha) =>
        (1 - alpha) * temperature * temperature * soft + alpha * hard;
}
