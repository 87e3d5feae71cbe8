using Mtkd.Training.Networks;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Distillation.Methods;

/// <summary>
/// "mutual": deep mutual learning (Zhang et al. 2018). <see cref="Students"/> students of the same architecture, no
/// pre-trained teachers, trained together: student k's loss is α·CE_k + (1 − α)·T²·mean over the others l of
/// KL(softmax(z_l / T) ‖ softmax(z_k / T)), the others' predictions taken as fixed targets; the losses are summed.
/// The paper's recipe is T = 1, α = 0.5. Every student is returned; the one with the best validation accuracy (the
/// first without validation data) is the run's student.
/// </summary>
public sealed record MutualLearning : DistillationMethod
{
    /// <summary>How many students train together (2 or more). Default 2.</summary>
    [Flag("--students", "How many students train together (2 or more).")]
    public int Students { get; set; } = 2;

    public override TeacherSignal Reads => TeacherSignal.None;

    public override void Validate()
    {
        if (Students < 2)
            throw new ArgumentOutOfRangeException(nameof(Students), Students, "Mutual learning trains two or more students together.");
    }

    internal override void Check(DistillationSetup setup)
    {
        if (setup.TeacherCount > 0)
            throw new ArgumentException("mutual trains students that teach each other; it uses no teachers. Give none, or choose a method that learns from them.");
    }

    internal override MethodRun Start(MethodStart start) =>
        new Run(start.Student, Enumerable.Range(1, Students - 1).Select(start.CreatePeer).ToArray());

    /// <summary>The summed loss of every student's logits [B, C] (one tensor each).</summary>
    internal static Tensor Compute(IReadOnlyList<Tensor> logits, LabelTargets targets, double temperature, double alpha)
    {
        using var scope = NewDisposeScope();
        var fixedTargets = logits.Select(z => nn.functional.softmax(z.detach() / temperature, dim: 1)).ToArray();
        Tensor total = zeros(1, device: logits[0].device).squeeze();
        for (int k = 0; k < logits.Count; k++)
        {
            var logQ = nn.functional.log_softmax(logits[k] / temperature, dim: 1);
            var soft = Enumerable.Range(0, logits.Count).Where(l => l != k)
                .Select(l => DistillationLoss.KlDivergence(fixedTargets[l], logQ).mean())
                .Aggregate((a, b) => a + b) / (logits.Count - 1);
            total = total + DistillationLoss.Combine(soft, DistillationLoss.HardLoss(logits[k], targets), temperature, alpha);
        }
        return total.MoveToOuterDisposeScope();
    }

    private sealed class Run(SequentialNetwork student, SequentialNetwork[] peers) : MethodRun(student)
    {
        private readonly CompanionModules companions = new(peers);

        public override nn.Module Companions => companions;

        public override IReadOnlyList<SequentialNetwork> Students => [Student, .. peers];

        public override (Tensor Loss, Tensor Predictions) Step(DistillationBatch batch)
        {
            var logits = Students.Select(s => s.forward(batch.Images)).ToArray();
            return (Compute(logits, batch.Targets, batch.Temperature, batch.Alpha), logits[0]);
        }
    }
}
