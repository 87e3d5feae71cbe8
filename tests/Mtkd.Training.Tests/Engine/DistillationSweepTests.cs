using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Engine;

namespace Mtkd.Training.Tests.Engine;

/// <summary>Choosing T and α on validation images: every setting runs, the best on validation is kept, and nothing runs without validation images.</summary>
public sealed class DistillationSweepTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-sweep-").FullName;

    public DistillationSweepTests() => TorchRuntime.EnsureLoaded();

    public void Dispose() => Directory.Delete(directory, recursive: true);

    // Synthetic teachers (labelled as such: a bump on the true class plus noise) stored as a column.
    private static DistillationJob Job(string? checkpoints = null)
    {
        var train = TrainingFixtures.Train.Take(200);
        return new DistillationJob
        {
            Data = train.WithColumn(TeacherColumns.Logits, TrainingFixtures.SyntheticTeacherLogits(train, teachers: 2), 2 * train.ClassCount),
            Validation = TrainingFixtures.Validation.Take(100),
            Trainer = new TrainerOptions { Epochs = 1, BatchSize = 50, Seed = 4, CheckpointDirectory = checkpoints },
        };
    }

    [Fact]
    public void Every_setting_runs_and_the_best_on_validation_is_kept()
    {
        var checkpoints = Path.Combine(directory, "checkpoints");
        var (best, chosen, points) = DistillationSweep.Run(Job(checkpoints), [1, 4], [0.2, 0.8]);
        using (best)
        {
            Assert.Equal([(1.0, 0.2), (1.0, 0.8), (4.0, 0.2), (4.0, 0.8)], points.Select(p => (p.Temperature, p.Alpha)));
            Assert.Equal(points.Max(p => p.ValidationAccuracy), chosen.ValidationAccuracy);
            Assert.Equal(points.First(p => p.ValidationAccuracy == chosen.ValidationAccuracy), chosen); // a tie keeps the earlier
            Assert.Equal(chosen.ValidationAccuracy, NetworkTrainer.Evaluate(best.Student, TrainingFixtures.Validation.Take(100)).Accuracy);
        }
        // Each setting keeps its own checkpoints, so a stopped sweep resumes setting by setting.
        foreach (var suffix in new[] { "-T1-a0.2", "-T1-a0.8", "-T4-a0.2", "-T4-a0.8" })
            Assert.True(Directory.Exists(checkpoints + suffix), suffix);
        // The same setting run alone gives the chosen student's accuracy: the sweep changes nothing else.
        var job = Job();
        job.Distillation.Temperature = chosen.Temperature;
        job.Distillation.Alpha = chosen.Alpha;
        using var alone = job.Run();
        Assert.Equal(chosen.ValidationAccuracy, NetworkTrainer.Evaluate(alone.Student, TrainingFixtures.Validation.Take(100)).Accuracy);
    }

    [Fact]
    public void A_sweep_without_validation_images_or_with_a_bad_setting_is_refused_before_training()
    {
        var noValidation = Assert.Throws<ArgumentException>(() => DistillationSweep.Run(Job() with { Validation = null }, [1], [0.5]));
        Assert.Contains("chooses T and α on validation images", noValidation.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => DistillationSweep.Run(Job(), [1, -2], [0.5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => DistillationSweep.Run(Job(), [1], [0.5, 2]));
    }
}
