using static TorchSharp.torch;

namespace Mtkd.Training.Distillation.Methods;

/// <summary>
/// "labels": the standard training every distilled student is measured against: the same network, options and steps,
/// cross-entropy on the labels alone (label smoothing and mixing as configured); no teachers, and unlabelled images are left out.
/// </summary>
public sealed record LabelsOnly : DistillationMethod
{
    public override TeacherSignal Reads => TeacherSignal.None;

    /// <summary>False: images without a label are left out.</summary>
    public override bool LearnsFromUnlabeled => false;

    internal override Tensor Loss(Tensor studentLogits, DistillationBatch batch) => batch.HardLoss(studentLogits);
}
