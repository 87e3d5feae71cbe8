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

    public static TheoryData<string> Damages() => ["truncated weights", "garbled model.json", "pointer to a missing epoch", "another network's weights", "garbled state.json"];

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
                named = "last.bin is damaged";
                break;
            case "garbled model.json":
                File.WriteAllText(Path.Combine(epoch, "model.json"), "{\"Spec\": 3");
                named = "model.json is damaged";
                break;
            case "pointer to a missing epoch":
                File.WriteAllText(Path.Combine(checkpoints, "current"), "epoch-0009");
                named = "epoch-0009, which does not exist";
                break;
            case "another network's weights":
                using (var wide = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall, width: 24), TrainingFixtures.Train, seed: 3))
                    wide.save(Path.Combine(epoch, "last.bin"));
                named = "last.bin is damaged";
                break;
            default:
                File.WriteAllText(Path.Combine(epoch, "state.json"), "[1, 2");
                named = "state.json is damaged";
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
}
