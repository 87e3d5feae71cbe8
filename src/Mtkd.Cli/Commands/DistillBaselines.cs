using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Distillation.Methods;
using Mtkd.Training.Engine;
using Mtkd.Training.Networks;

namespace Mtkd.Cli.Commands;

/// <summary>
/// <c>mtkd distill --baseline</c>: each student's network trained the standard way (cross-entropy on the labelled
/// images) with the same schedule, augmentation, pool of views, seed and number of images seen, so the report says
/// what distillation gained over it. Each baseline has its own checkpoints (OUT/baseline-k/), so a rerun resumes it.
/// </summary>
internal static class DistillBaselines
{
    /// <summary>The test accuracy of each network in <paramref name="students"/> trained alone on the labels (networks alike, such as mutual learning's peers, trained once).</summary>
    public static double[] Run(DistillationJob job, ImageDataset train, IReadOnlyList<NetworkSpec> students, ImageDataset test, string directory,
        Func<string, IProgress<TrainingProgress>> stage, CancellationToken cancellation)
    {
        // Label training keeps the labelled rows only; more epochs over them see as many images as the distilled run.
        int labeled = Math.Max(1, train.LabeledCount);
        var keys = students.Select(s => System.Text.Json.JsonSerializer.Serialize(s)).ToArray();
        var distinct = keys.Distinct().ToList();
        var accuracies = distinct.Select((key, k) =>
        {
            var spec = students[Array.IndexOf(keys, key)];
            var trainer = job.Trainer.Clone();
            trainer.Epochs = (int)Math.Ceiling((double)job.Trainer.Epochs * train.Count / labeled);
            trainer.CheckpointDirectory = Path.Combine(directory, $"baseline-{k}", "checkpoints");
            trainer.MetricsPath = Path.Combine(directory, $"baseline-{k}", "metrics.csv");
            Directory.CreateDirectory(Path.Combine(directory, $"baseline-{k}"));
            using var alone = (job with
            {
                Data = train, Teachers = null, ConsistentTeaching = false, Student = spec, Trainer = trainer,
                Distillation = new DistillationOptions { Method = new LabelsOnly() }, Progress = stage($"labels only → {spec.Name}"),
            }).Run(cancellation);
            return NetworkTrainer.Evaluate(alone.Student, test).Accuracy;
        }).ToArray();
        return keys.Select(key => accuracies[distinct.IndexOf(key)]).ToArray();
    }
}
