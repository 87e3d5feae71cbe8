using static TorchSharp.torch;

namespace Mtkd.Training.Distillation.Methods;

/// <summary>"logit_avg": KL from softmax(mean of the teachers' logits / T), the output_avg variant on logits.</summary>
public sealed record LogitAverage : DistillationMethod
{
    internal override Tensor Loss(Tensor studentLogits, DistillationBatch batch)
    {
        using var scope = NewDisposeScope();
        var target = nn.functional.softmax(batch.RequireTeacherLogits(Name).mean([1]) / batch.Temperature, dim: 1);
        var soft = DistillationLoss.KlDivergence(target, nn.functional.log_softmax(studentLogits / batch.Temperature, dim: 1)).mean();
        return DistillationLoss.Combine(soft, batch.HardLoss(studentLogits), batch.Temperature, batch.Alpha).MoveToOuterDisposeScope();
    }
}
