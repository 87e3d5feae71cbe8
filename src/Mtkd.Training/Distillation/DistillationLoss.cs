using static TorchSharp.torch;

namespace Mtkd.Training.Distillation;

/// <summary>
/// The multi-teacher distillation losses: loss = (1 − α)·T²·soft + α·hard, where hard is the (optionally
/// label-smoothed) cross-entropy against the true labels and soft depends on the <see cref="DistillationMode"/>.
/// The T² factor keeps the soft-target gradients on the scale of the hard-label ones as T changes.
/// Shapes: student logits [B, C] (mimic_all: [B, K, C], one row per head), teacher logits [B, K, C], labels [B] int64.
/// Normalisation: the soft term is the mean over every row of the batch; the hard term is the mean over the rows
/// that have a label (a label &lt; 0 means none, see <see cref="LabelTargets"/>), and 0 in a batch without any.
/// So unlabelled images teach through the teachers alone, and the labelled ones keep the hard term's scale.
/// </summary>
internal static class DistillationLoss
{
    /// <summary>The loss of <paramref name="options"/>' mode against int64 labels [B] (negative: unlabelled).</summary>
    public static Tensor Compute(DistillationOptions options, Tensor student, Tensor teachers, Tensor labels)
    {
        using var targets = LabelTargets.From(labels, (int)teachers.shape[2], options.LabelSmoothing);
        return Compute(options, student, teachers, targets);
    }

    /// <summary>The loss of <paramref name="options"/>' mode. Supernet modes take the aggregator's output as a single teacher [B, 1, C].</summary>
    public static Tensor Compute(DistillationOptions options, Tensor student, Tensor teachers, LabelTargets targets) => options.Mode switch
    {
        DistillationMode.OutputAverage or DistillationMode.Supernet or DistillationMode.Supernet2 =>
            OutputAverage(student, teachers, targets, options.Temperature, options.Alpha),
        DistillationMode.LogitAverage => LogitAverage(student, teachers, targets, options.Temperature, options.Alpha),
        DistillationMode.LossAverage => LossAverage(student, teachers, targets, options.Temperature, options.Alpha),
        DistillationMode.MimicAll => MimicAll(student, teachers, targets, options.Temperature, options.Alpha),
        DistillationMode.Confidence => Confidence(student, teachers, targets, options.Temperature, options.Alpha),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Mode, "Unknown distillation mode."),
    };

    /// <summary>output_avg: soft = KL(p̄ ‖ q), p̄ the mean over teachers of softmax(teacher / T), q = softmax(student / T).</summary>
    public static Tensor OutputAverage(Tensor studentLogits, Tensor teacherLogits, Tensor labels, double temperature, double alpha, double labelSmoothing = 0) =>
        WithLabels(labels, teacherLogits, labelSmoothing, t => OutputAverage(studentLogits, teacherLogits, t, temperature, alpha));

    public static Tensor OutputAverage(Tensor studentLogits, Tensor teacherLogits, LabelTargets targets, double temperature, double alpha)
    {
        using var scope = NewDisposeScope();
        var target = nn.functional.softmax(teacherLogits / temperature, dim: 2).mean([1]);
        var soft = KlDivergence(target, nn.functional.log_softmax(studentLogits / temperature, dim: 1)).mean();
        return Combine(soft, HardLoss(studentLogits, targets), temperature, alpha).MoveToOuterDisposeScope();
    }

    /// <summary>logit_avg: soft = KL(softmax(mean of teacher logits / T) ‖ q).</summary>
    public static Tensor LogitAverage(Tensor studentLogits, Tensor teacherLogits, Tensor labels, double temperature, double alpha, double labelSmoothing = 0) =>
        WithLabels(labels, teacherLogits, labelSmoothing, t => LogitAverage(studentLogits, teacherLogits, t, temperature, alpha));

    public static Tensor LogitAverage(Tensor studentLogits, Tensor teacherLogits, LabelTargets targets, double temperature, double alpha)
    {
        using var scope = NewDisposeScope();
        var target = nn.functional.softmax(teacherLogits.mean([1]) / temperature, dim: 1);
        var soft = KlDivergence(target, nn.functional.log_softmax(studentLogits / temperature, dim: 1)).mean();
        return Combine(soft, HardLoss(studentLogits, targets), temperature, alpha).MoveToOuterDisposeScope();
    }

    /// <summary>loss_avg: soft = mean over teachers k of KL(softmax(teacher_k / T) ‖ q).</summary>
    public static Tensor LossAverage(Tensor studentLogits, Tensor teacherLogits, Tensor labels, double temperature, double alpha, double labelSmoothing = 0) =>
        WithLabels(labels, teacherLogits, labelSmoothing, t => LossAverage(studentLogits, teacherLogits, t, temperature, alpha));

    public static Tensor LossAverage(Tensor studentLogits, Tensor teacherLogits, LabelTargets targets, double temperature, double alpha)
    {
        using var scope = NewDisposeScope();
        var soft = PerTeacherKl(studentLogits.unsqueeze(1), teacherLogits, temperature).mean();
        return Combine(soft, HardLoss(studentLogits, targets), temperature, alpha).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// mimic_all: soft = mean over k of KL(softmax(teacher_k / T) ‖ softmax(head_k / T)); hard = −log of the mean of
    /// the heads' probabilities at the true class (smoothed targets when ε &gt; 0), the prediction the student makes.
    /// </summary>
    public static Tensor MimicAll(Tensor headLogits, Tensor teacherLogits, Tensor labels, double temperature, double alpha, double labelSmoothing = 0) =>
        WithLabels(labels, teacherLogits, labelSmoothing, t => MimicAll(headLogits, teacherLogits, t, temperature, alpha));

    public static Tensor MimicAll(Tensor headLogits, Tensor teacherLogits, LabelTargets targets, double temperature, double alpha)
    {
        if (headLogits.dim() != 3 || headLogits.shape[1] != teacherLogits.shape[1])
            throw new ArgumentException($"mimic_all needs one student head per teacher: heads [{string.Join(", ", headLogits.shape)}], teachers [{string.Join(", ", teacherLogits.shape)}].");
        using var scope = NewDisposeScope();
        var soft = PerTeacherKl(headLogits, teacherLogits, temperature).mean();
        var logMean = MeanOfHeadsLogProbabilities(headLogits);
        return Combine(soft, targets.CrossEntropy(logMean), temperature, alpha).MoveToOuterDisposeScope();
    }

    /// <summary>log of the mean of the heads' probabilities, [B, K, C] → [B, C]: what a mimic_all student predicts.</summary>
    public static Tensor MeanOfHeadsLogProbabilities(Tensor headLogits) =>
        nn.functional.log_softmax(headLogits, dim: 2).logsumexp(1) - Math.Log(headLogits.shape[1]);

    /// <summary>confidence (CA-MKD): soft = Σ_k w_k·KL(softmax(teacher_k / T) ‖ q), w_k = (1 − exp(CE_k)/Σ_j exp(CE_j)) / (K − 1) per sample.</summary>
    public static Tensor Confidence(Tensor studentLogits, Tensor teacherLogits, Tensor labels, double temperature, double alpha, double labelSmoothing = 0) =>
        WithLabels(labels, teacherLogits, labelSmoothing, t => Confidence(studentLogits, teacherLogits, t, temperature, alpha));

    public static Tensor Confidence(Tensor studentLogits, Tensor teacherLogits, LabelTargets targets, double temperature, double alpha)
    {
        using var scope = NewDisposeScope();
        var weights = ConfidenceWeights(teacherLogits, targets);
        var soft = (weights * PerTeacherKl(studentLogits.unsqueeze(1), teacherLogits, temperature)).sum(1).mean();
        return Combine(soft, HardLoss(studentLogits, targets), temperature, alpha).MoveToOuterDisposeScope();
    }

    /// <summary>CA-MKD's per-sample teacher weights [B, K]; they sum to 1 over teachers (a single teacher gets 1).</summary>
    public static Tensor ConfidenceWeights(Tensor teacherLogits, Tensor labels)
    {
        using var targets = LabelTargets.From(labels, (int)teacherLogits.shape[2]);
        return ConfidenceWeights(teacherLogits, targets);
    }

    /// <summary>
    /// As above against <paramref name="targets"/>: CE_k is teacher k's cross-entropy to the row's target
    /// distribution, so an unlabelled row (no target) weighs every teacher 1/K.
    /// </summary>
    public static Tensor ConfidenceWeights(Tensor teacherLogits, LabelTargets targets)
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

    /// <summary>Cross-entropy with targets (1 − ε)·one-hot + ε/C, over the labelled rows (labels ≥ 0).</summary>
    public static Tensor HardLoss(Tensor logits, Tensor labels, double labelSmoothing)
    {
        using var targets = LabelTargets.From(labels, (int)logits.shape[1], labelSmoothing);
        return HardLoss(logits, targets);
    }

    /// <summary>Cross-entropy against <paramref name="targets"/>, the mean over the rows they count.</summary>
    public static Tensor HardLoss(Tensor logits, LabelTargets targets)
    {
        using var scope = NewDisposeScope();
        return targets.CrossEntropy(nn.functional.log_softmax(logits, dim: 1)).MoveToOuterDisposeScope();
    }

    private static Tensor WithLabels(Tensor labels, Tensor teacherLogits, double labelSmoothing, Func<LabelTargets, Tensor> loss)
    {
        using var targets = LabelTargets.From(labels, (int)teacherLogits.shape[2], labelSmoothing);
        return loss(targets);
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
