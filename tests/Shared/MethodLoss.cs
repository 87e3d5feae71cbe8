using Mtkd.Training.Distillation;
using Mtkd.Training.Distillation.Methods;
using static TorchSharp.torch;

namespace Mtkd.Tests;

/// <summary>A method's loss on hand-made tensors: student logits [B, C] (mimic_all: heads [B, K, C]), teachers [B, K, C], int64 labels.</summary>
internal static class MethodLoss
{
    public static Tensor Of(DistillationMethod method, Tensor student, Tensor teachers, Tensor labels, double temperature, double alpha, double labelSmoothing = 0,
        Tensor? features = null)
    {
        var options = new DistillationOptions { Method = method, Temperature = temperature, Alpha = alpha, LabelSmoothing = labelSmoothing };
        using var targets = LabelTargets.From(labels, (int)teachers.shape[2], labelSmoothing);
        if (method is MimicAll)
            return MimicAll.Compute(student, teachers, targets, temperature, alpha);
        using var images = zeros(student.shape[0]);
        return method.Loss(student, new DistillationBatch(images, teachers, features, targets, options));
    }
}
