using static TorchSharp.torch;

namespace Mtkd.Training.Distillation.Methods;

/// <summary>"loss_avg": the mean over teachers of the KL from each teacher to the student.</summary>
public sealed record LossAverage : DistillationMethod
{
    internal override Tensor Loss(Tensor studentLogits, DistillationBatch batch)
    {
        using var scope = NewDisposeScope();
        var soft = DistillationLoss.PerTeacherKl(studentLogits.unsqueeze(1), batch.RequireTeacherLogits(Name), batch.Temperature).mean();
        return DistillationLoss.Combine(soft, batch.HardLoss(studentLogits), batch.Temperature, batch.Alpha).MoveToOuterDisposeScope();
    }
}
