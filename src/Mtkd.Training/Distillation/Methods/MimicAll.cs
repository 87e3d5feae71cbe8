using Mtkd.Training.Networks;
using static TorchSharp.torch;

namespace Mtkd.Training.Distillation.Methods;

/// <summary>
/// "mimic_all": one student head per teacher on a shared body, head k imitating teacher k; the prediction, and the
/// hard-label term, use the mean of the heads' probabilities. soft = mean over k of KL(softmax(teacher_k / T) ‖
/// softmax(head_k / T)); hard = −log of the mean of the heads' probabilities at the true class.
/// </summary>
public sealed record MimicAll : DistillationMethod
{
    internal override int StudentHeads(int teacherCount) => teacherCount;

    internal override MethodRun Start(MethodStart start)
    {
        if (start.Student.HeadCount != start.TeacherCount)
            throw new ArgumentException($"mimic_all needs a student with one head per teacher ({start.TeacherCount}); this one has {start.Student.HeadCount}.");
        return new Run(start.Student);
    }

    /// <summary>The loss of heads [B, K, C] against teachers [B, K, C].</summary>
    internal static Tensor Compute(Tensor headLogits, Tensor teacherLogits, LabelTargets targets, double temperature, double alpha)
    {
        if (headLogits.dim() != 3 || headLogits.shape[1] != teacherLogits.shape[1])
            throw new ArgumentException($"mimic_all needs one student head per teacher: heads [{string.Join(", ", headLogits.shape)}], teachers [{string.Join(", ", teacherLogits.shape)}].");
        using var scope = NewDisposeScope();
        var soft = DistillationLoss.PerTeacherKl(headLogits, teacherLogits, temperature).mean();
        var logMean = DistillationLoss.MeanOfHeadsLogProbabilities(headLogits);
        return DistillationLoss.Combine(soft, targets.CrossEntropy(logMean), temperature, alpha).MoveToOuterDisposeScope();
    }

    private sealed class Run(SequentialNetwork student) : MethodRun(student)
    {
        public override (Tensor Loss, Tensor Predictions) Step(DistillationBatch batch)
        {
            var heads = Student.ForwardHeads(batch.Images);
            return (Compute(heads, batch.RequireTeacherLogits("mimic_all"), batch.Targets, batch.Temperature, batch.Alpha),
                DistillationLoss.MeanOfHeadsLogProbabilities(heads));
        }
    }
}
