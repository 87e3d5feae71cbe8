using Mtkd.Cli;
using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Engine;

namespace Mtkd.Cli.Tests.Reliability;

/// <summary>
/// A checkpoint resumes only the run it was written by (issue 16, fault 3): other teachers, other data or any
/// setting that shapes training is refused with the first differing item named.
/// </summary>
public sealed class ResumeFingerprintTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-fingerprint-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void A_checkpoint_from_other_settings_is_refused_naming_its_folder()
    {
        var checkpoints = Path.Combine(directory, "checkpoints");
        var targets = new Signals(TrainingFixtures.SyntheticTeacherLogits(TrainingFixtures.Train, 2), 2);
        using (var first = TrainingFixtures.Student())
            JobRuns.Distill(first, TrainingFixtures.Train, targets, TrainingFixtures.Options(o => { o.Epochs = 1; o.CheckpointDirectory = checkpoints; }), new DistillationOptions());
        using var second = TrainingFixtures.Student();
        var ex = Assert.Throws<InvalidOperationException>(() => JobRuns.Distill(second, TrainingFixtures.Train, targets,
            TrainingFixtures.Options(o => { o.Epochs = 1; o.LearningRate = 0.01; o.CheckpointDirectory = checkpoints; }), new DistillationOptions()));
        Assert.Contains(checkpoints, ex.Message);
        Assert.Contains("LearningRate was 0.002, this run has 0.01", ex.Message);
    }

    [Fact]
    public void A_checkpoint_names_the_first_difference_for_other_teachers_other_data_or_another_setting()
    {
        var checkpoints = Path.Combine(directory, "fingerprint");
        var data = TrainingFixtures.Train;
        var targets = new Signals(TrainingFixtures.SyntheticTeacherLogits(data, 2), 2);
        IReadOnlyList<EpochSummary> Run(ImageDataset images, Signals t, Action<TrainerOptions>? change = null)
        {
            using var student = TrainingFixtures.Student();
            return JobRuns.Distill(student, images, t, TrainingFixtures.Options(o => { o.Epochs = 1; o.CheckpointDirectory = checkpoints; change?.Invoke(o); }), new DistillationOptions());
        }
        Run(data, targets);

        var teachers = Assert.Throws<InvalidOperationException>(() => Run(data, new Signals(TrainingFixtures.SyntheticTeacherLogits(data, 2, seed: 10), 2)));
        Assert.Contains("'teachers logits ", teachers.Message);
        var relabelled = data.WithLabels(data.Labels.Select(l => (l + 1) % data.ClassCount).ToArray());
        var other = Assert.Throws<InvalidOperationException>(() => Run(relabelled, targets));
        Assert.Contains("'data ", other.Message);
        var setting = Assert.Throws<InvalidOperationException>(() => Run(data, targets, o => o.Nesterov = true));
        Assert.Contains("Nesterov was false, this run has true", setting.Message);
        var augmentation = Assert.Throws<InvalidOperationException>(() => Run(data, targets, o => o.Augmentation.RotationDegrees = 5));
        Assert.Contains("Augmentation.RotationDegrees was 10, this run has 5", augmentation.Message);
        Assert.Single(Run(data, targets)); // the same run still resumes (finished: nothing left to train)
    }

    [Fact]
    public void Mtkd_distill_rerun_in_the_same_folder_with_another_teacher_file_is_refused()
    {
        string Teacher(string name, int seed)
        {
            var path = Path.Combine(directory, name);
            File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(TeacherVariants.Base(channels: 1, size: 28, classes: 10, seed: seed)));
            return path;
        }
        var (a, b) = (Teacher("a.onnx", 1), Teacher("b.onnx", 2));
        string output = Path.Combine(directory, "student");
        Assert.Equal(0, CliOutput.Capture(() => Program.Main(["distill", "--teacher", a, "--quick", "--epochs", "1", "--out", output])).Code);
        var before = File.ReadAllBytes(Path.Combine(output, "student.onnx"));

        var (code, said) = CliOutput.Capture(() => Program.Main(["distill", "--teacher", b, "--quick", "--epochs", "1", "--out", output]));
        Assert.Equal(1, code);
        Assert.Contains("is from another run", said);
        Assert.Contains("'teachers ", said);
        Assert.DoesNotContain("Resuming", said);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(output, "student.onnx"))); // the old student is left as it was
    }
}
