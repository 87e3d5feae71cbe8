using static TorchSharp.torch;

namespace Mtkd.Training.Distillation.Methods;

/// <summary>
/// "supernet": a linear aggregator over the concatenated teacher logits, trained on the training labels first and
/// then frozen, is the single teacher; the student learns from it as from output_avg's one teacher.
/// </summary>
public record Supernet : DistillationMethod
{
    internal override void Check(DistillationSetup setup)
    {
        if (setup.Online)
            throw new ArgumentException($"{Name} fits its aggregator on stored teacher logits; online (consistent) teachers do not apply.");
        if (setup.UnlabeledCount > 0)
            throw new ArgumentException($"{Name} fits its aggregator on the labels; {setup.UnlabeledCount} images have none. Use another method, or only labelled images.");
    }

    internal override StoredTeachers Prepare(StoredTeachers stored, IReadOnlyList<int> labels, int classCount, int seed) =>
        new(SupernetAggregator.FitAndApply(AggregatorInputs(stored), labels, classCount, seed).Logits, 1, null);

    /// <summary>What the aggregator reads per image: the teachers' logits.</summary>
    private protected virtual float[] AggregatorInputs(StoredTeachers stored) => stored.Logits;

    internal override Tensor Loss(Tensor studentLogits, DistillationBatch batch) =>
        OutputAverage.Compute(studentLogits, batch.RequireTeacherLogits(Name), batch.Targets, batch.Temperature, batch.Alpha);
}
