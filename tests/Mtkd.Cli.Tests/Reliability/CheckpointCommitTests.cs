using Mtkd.Cli;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Engine;

namespace Mtkd.Cli.Tests.Reliability;

/// <summary>
/// A checkpoint becomes visible all at once (issue 16, fault 2): a kill at each step of its write resumes to the
/// uninterrupted run's weights, a killed write's leftovers are removed, and a checkpoint damaged outside Mtkd is
/// named file by file instead of loading half a model.
/// </summary>
public sealed class CheckpointCommitTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-checkpoint-commit-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static IReadOnlyList<EpochSummary> Distill(SequentialNetwork student, TrainerOptions options, IProgress<TrainingProgress>? progress = null) =>
        JobRuns.Distill(student, TrainingFixtures.Train, new Signals(TrainingFixtures.SyntheticTeacherLogits(TrainingFixtures.Train, 2), 2),
            options, new DistillationOptions(), TrainingFixtures.Validation, progress);

    private sealed class SimulatedKill : Exception;

    [Theory]
    [InlineData("epoch-folder")] // the new epoch's folder is complete, its pointer not yet written
    [InlineData("pointer")]      // the pointer names the new epoch, the old one is not yet removed
    public void A_run_killed_while_saving_a_checkpoint_resumes_to_the_same_final_weights(string step)
    {
        // Early stopping on, so the best weights travel with each epoch too.
        var options = (string? checkpoints) => TrainingFixtures.Options(o => { o.Epochs = 3; o.CheckpointDirectory = checkpoints; o.EarlyStoppingPatience = 5; });
        using var uninterrupted = TrainingFixtures.Student();
        Distill(uninterrupted, options(null));

        var checkpoints = Path.Combine(directory, $"killed-{step}");
        int saves = 0;
        TrainingCheckpoint.AfterSaveStep = s => { if (s == step && ++saves == 2) throw new SimulatedKill(); }; // during epoch 2's save
        try
        {
            using var killed = TrainingFixtures.Student();
            Assert.Throws<SimulatedKill>(() => Distill(killed, options(checkpoints)));
        }
        finally
        {
            TrainingCheckpoint.AfterSaveStep = null;
        }
        // What a kill during a write leaves: a staging folder and an unrenamed temporary file.
        Directory.CreateDirectory(Path.Combine(checkpoints, ".epoch-0003.999999.tmp"));
        File.WriteAllText(Path.Combine(checkpoints, ".current.999999.tmp"), "epoch-0003");

        using var resumed = TrainingFixtures.Student();
        var messages = new List<string>();
        Distill(resumed, options(checkpoints), new SynchronousProgress<TrainingProgress>(p => { if (p.Message is { } m) messages.Add(m); }));
        Assert.Equal(TrainingFixtures.Weights(uninterrupted), TrainingFixtures.Weights(resumed));
        Assert.Contains(messages, m => m.Contains($"after epoch {(step == "pointer" ? 2 : 1)}", StringComparison.Ordinal));
        Assert.Equal(["current", "epoch-0003"], Directory.EnumerateFileSystemEntries(checkpoints).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    public static TheoryData<string> Damages() =>
    [
        "truncated weights", "garbled model.json", "pointer to a missing epoch", "another network's weights", "garbled state.json",
        "sixteen bytes overwritten inside the weights", "a checkpoint from before checksums, truncated",
    ];

    [Theory]
    [MemberData(nameof(Damages))]
    public void A_checkpoint_damaged_outside_mtkd_is_refused_naming_the_file_by_export_and_by_resume(string damage)
    {
        var checkpoints = Path.Combine(directory, "checkpoints");
        var options = TrainingFixtures.Options(o => { o.Epochs = 1; o.CheckpointDirectory = checkpoints; });
        using (var first = TrainingFixtures.Student()) Distill(first, options);
        var epoch = TrainingCheckpoint.CurrentFolder(checkpoints)!;
        string named;
        switch (damage)
        {
            case "truncated weights":
                File.WriteAllBytes(Path.Combine(epoch, "last.bin"), File.ReadAllBytes(Path.Combine(epoch, "last.bin"))[..1000]);
                named = "last.bin does not match the checksum";
                break;
            case "sixteen bytes overwritten inside the weights": // still loads as weights: only the checksum tells
                using (var file = File.OpenWrite(Path.Combine(epoch, "last.bin")))
                {
                    file.Seek(file.Length / 2, SeekOrigin.Begin);
                    file.Write(Enumerable.Repeat((byte)0x7f, 16).ToArray());
                }
                named = "last.bin does not match the checksum";
                break;
            case "a checkpoint from before checksums, truncated": // nothing to check against: the loader names the damage
                File.Delete(Path.Combine(epoch, TrainingCheckpoint.ChecksumsFile));
                File.WriteAllBytes(Path.Combine(epoch, "last.bin"), File.ReadAllBytes(Path.Combine(epoch, "last.bin"))[..1000]);
                named = "last.bin is damaged";
                break;
            case "garbled model.json":
                File.WriteAllText(Path.Combine(epoch, "model.json"), "{\"Spec\": 3");
                named = "model.json does not match the checksum";
                break;
            case "pointer to a missing epoch":
                File.WriteAllText(Path.Combine(checkpoints, "current"), "epoch-0009");
                named = "epoch-0009, which does not exist";
                break;
            case "another network's weights":
                using (var wide = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall, width: 24), TrainingFixtures.Train, seed: 3))
                    wide.save(Path.Combine(epoch, "last.bin"));
                named = "last.bin does not match the checksum";
                break;
            default:
                File.WriteAllText(Path.Combine(epoch, "state.json"), "[1, 2");
                named = "state.json does not match the checksum";
                break;
        }

        if (damage != "garbled state.json") // export reads the model and the weights, not the training state
        {
            var (code, said) = CliOutput.Capture(() => Program.Main(["export", checkpoints, "--out", Path.Combine(directory, "student.onnx")]));
            Assert.Equal(1, code);
            Assert.Contains(named, said);
            Assert.DoesNotContain("   at ", said);
            Assert.False(File.Exists(Path.Combine(directory, "student.onnx")));
        }
        if (damage != "garbled model.json") // resuming reads the state and the weights
        {
            using var again = TrainingFixtures.Student();
            var e = Assert.Throws<InvalidDataException>(() => Distill(again, options));
            Assert.Contains(named, e.Message);
        }
    }

    [Fact]
    public void A_finished_student_is_never_replaced_by_one_rebuilt_from_a_damaged_checkpoint()
    {
        // Label training needs no teachers, so the whole run is a couple of seconds on the quick set.
        string[] distill = ["distill", "--method", "labels", "--quick", "--epochs", "1", "--out", Path.Combine(directory, "run")];
        Assert.Equal(0, CliOutput.Capture(() => Program.Main(distill)).Code);
        var student = Path.Combine(directory, "run", "student.onnx");
        var before = File.ReadAllBytes(student);
        var weights = Path.Combine(TrainingCheckpoint.CurrentFolder(Path.Combine(directory, "run", "checkpoints"))!, "last.bin");
        using (var file = File.OpenWrite(weights))
        {
            file.Seek(file.Length / 2, SeekOrigin.Begin);
            file.Write(Enumerable.Repeat((byte)0x7f, 16).ToArray());
        }

        var (code, said) = CliOutput.Capture(() => Program.Main(distill));
        Assert.Equal(1, code);
        Assert.Contains("last.bin does not match the checksum", said);
        Assert.Equal(before, File.ReadAllBytes(student));
        var (exported, exportSaid) = CliOutput.Capture(() => Program.Main(["export", Path.Combine(directory, "run"), "--out", Path.Combine(directory, "x.onnx")]));
        Assert.Equal(1, exported);
        Assert.Contains("does not match the checksum", exportSaid);
        Assert.False(File.Exists(Path.Combine(directory, "x.onnx")));
    }
}
