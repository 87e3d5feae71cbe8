using static TorchSharp.torch;

namespace Mtkd.Training.Distillation;

/// <summary>
/// The output-averaging multi-teacher loss (Hinton et al. 2015 for one teacher; Zuchniak 2023, "output_avg", for an
/// ensemble): loss = (1 − α)·T²·KL(p̄ ‖ q) + α·CE(student, y), where p̄ is the mean over teachers of
/// softmax(teacher logits / T) and q = softmax(student logits / T). The T² factor keeps the soft-target gradients
/// on the scale of the hard-label ones as T changes.
/// </summary>
public static class DistillationLoss
{
    /// <param name="studentLogits">[B, C].</param>
    /// <param name="teacherLogits">[B, K, C]: K teachers.</param>
    /// <param name="labels">[B] class indices (int64).</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <param name="alpha">Weight of the hard-label cross-entropy, in [0, 1].</param>
    public static Tensor OutputAverage(Tensor studentLogits, Tensor teacherLogits, Tensor labels, double temperature, double alpha)
    {
        using var scope = NewDisposeScope();
        var teacherProbabilities = nn.functional.softmax(teacherLogits / temperature, dim: 2).mean([1]);
        var studentLogProbabilities = nn.functional.log_softmax(studentLogits / temperature, dim: 1);
        // Σ p̄·(log p̄ − log q), with 0·log 0 taken as 0.
        var kl = (teacherProbabilities * (teacherProbabilities.clamp_min(1e-12).log() - studentLogProbabilities)).sum(1).mean();
        var hard = nn.functional.cross_entropy(studentLogits, labels);
        var loss = (1 - alpha) * temperature * temperature * kl + alpha * hard;
        return loss.MoveToOuterDisposeScope();
    }
}
