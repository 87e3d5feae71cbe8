using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Engine;
using Mtkd.Training.Networks;

namespace Mtkd.Tests;

/// <summary>Teacher signals for <see cref="JobRuns.Distill"/>, as the tests give them: stored logits [N, K, C], features, in-bag flags, or online teachers.</summary>
internal sealed record Signals(float[] TeacherLogits, int TeacherCount, float[]? TeacherFeatures = null, IBatchTeachers? OnlineTeachers = null)
{
    public bool[]? InBag { get; init; }
}

/// <summary>
/// Runs a <see cref="DistillationJob"/> for tests written around a student they created: the job trains a student of
/// the same architecture (from the options' seed) and its weights are copied into <paramref name="student"/>.
/// </summary>
internal static class JobRuns
{
    public static IReadOnlyList<EpochSummary> Distill(SequentialNetwork student, ImageDataset data, Signals signals, TrainerOptions options, DistillationOptions distillation,
        ImageDataset? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var train = data;
        if (signals.OnlineTeachers is null)
        {
            train = train.WithColumn(TeacherColumns.Logits, signals.TeacherLogits, signals.TeacherCount * data.ClassCount);
            if (signals.TeacherFeatures is { } f)
                train = train.WithColumn(TeacherColumns.Features, f, f.Length / data.Count);
        }
        if (signals.InBag is { } bag)
            train = train.WithColumn(TeacherColumns.InBag, bag.Select(b => b ? 1f : 0f).ToArray(), signals.TeacherCount);
        using var result = new DistillationJob
        {
            Data = train, Validation = validation, Teachers = signals.OnlineTeachers, ConsistentTeaching = signals.OnlineTeachers is not null,
            Student = student.Spec, Trainer = options, Distillation = distillation, Progress = progress,
        }.Run(cancellation);
        using var scope = TorchSharp.torch.NewDisposeScope(); // the handles state_dict() makes for buffers
        student.load_state_dict(result.Student.state_dict());
        return result.History;
    }
}
