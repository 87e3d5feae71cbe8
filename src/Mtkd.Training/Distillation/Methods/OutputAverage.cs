using static TorchSharp.torch;

namespace Mtkd.Training.Distillation.Methods;

/// <summary>"output_avg": KL from the mean of the teachers' softened probabilities to the student's (Zuchniak 2023). The default.</summary>
public sealed record OutputAverage : DistillationMethod
{
    internal override Tensor Loss(Tensor studentLogits, DistillationBatch batch) =>
        Compute(studentLogits, batch.RequireTeacherLogits(Name), batch.Targets, batch.Temperature, batch.Alpha);

    /// <summary>soft = KL(p̄ ‖ q), p̄ the mean over teachers of softmax(teacher / T), q = softmax(student / T).</summary>
    internal static Tensor Compute(Tensor studentLogits, Tensor teacherLogits, LabelTargets targets, double temperature, double alpha)
    {
        using var scope = NewDisposeScope();
        var target = nn.functional.softmax(teacherLogits / temperature, dim: 2).mean([1]);
        var soft = DistillationLoss.KlDivergence(target, nn.functional.log_softmax(studentLogits / temperature, dim: 1)).mean();
        return DistillationLoss.Combine(soft, DistillationLoss.HardLoss(studentLogits, targets), temperature, alpha).MoveToOuterDisposeScope();
    }
}
