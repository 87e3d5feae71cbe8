using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Engine;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Engine;

public sealed class TrainingLoopTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-training-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static float[] Weights(SequentialNetwork network) => TrainingFixtures.Weights(network);

    private static SequentialNetwork Student(int heads = 1, string preset = NetworkPresets.CnnSmall) => TrainingFixtures.Student(heads, preset);

    private static TrainerOptions Options(Action<TrainerOptions>? change = null) => TrainingFixtures.Options(change);

    private static IReadOnlyList<EpochSummary> Distill(SequentialNetwork student, TrainerOptions options, CancellationToken cancellation = default,
        IProgress<TrainingProgress>? progress = null) =>
        JobRuns.Distill(student, TrainingFixtures.Train, new Signals(TrainingFixtures.SyntheticTeacherLogits(TrainingFixtures.Train, 2), 2),
            options, new DistillationOptions(), TrainingFixtures.Validation, progress, cancellation);

    [Fact]
    public void The_same_seed_gives_bit_identical_weights()
    {
        using var a = Student();
        using var b = Student();
        Distill(a, Options());
        Distill(b, Options());
        Assert.Equal(Weights(a), Weights(b));
        using var c = Student();
        Distill(c, Options(o => o.Seed = 6));
        Assert.NotEqual(Weights(a), Weights(c));
    }

    [Fact]
    public void A_killed_run_resumes_to_the_same_final_weights()
    {
        using var uninterrupted = Student();
        var full = Distill(uninterrupted, Options(o => o.Epochs = 3));

        var checkpoints = Path.Combine(directory, "checkpoints");
        using var killed = Student();
        using var kill = new CancellationTokenSource();
        // "Kill" the run during its second epoch, after the first epoch's checkpoint is written.
        var progress = new SynchronousProgress<TrainingProgress>(p => { if (p.Epoch == 2 && p.Step == 2) kill.Cancel(); });
        Assert.Throws<OperationCanceledException>(() => Distill(killed, Options(o => { o.Epochs = 3; o.CheckpointDirectory = checkpoints; }), kill.Token, progress));

        using var resumed = Student(); // a fresh process would start from fresh weights, then load the checkpoint
        var messages = new List<string>();
        var history = Distill(resumed, Options(o => { o.Epochs = 3; o.CheckpointDirectory = checkpoints; }),
            progress: new SynchronousProgress<TrainingProgress>(p => { if (p.Message is { } m) messages.Add(m); }));

        Assert.Equal(Weights(uninterrupted), Weights(resumed));
        Assert.Equal(full.Select(e => e.MeanLoss), history.Select(e => e.MeanLoss));
        Assert.Contains(messages, m => m.Contains("Resuming") && m.Contains("after epoch 1"));
    }

    [Fact]
    public void A_killed_run_with_mixing_and_unlabelled_images_resumes_to_the_same_final_weights()
    {
        var data = TrainingFixtures.Train.Take(200).Concat(TrainingFixtures.Train.Subset(Enumerable.Range(200, 200).ToArray()).WithoutLabels());
        var targets = new Signals(TrainingFixtures.SyntheticTeacherLogits(TrainingFixtures.Train, 2), 2);
        var options = (string? checkpoints) => Options(o =>
        {
            o.Epochs = 3;
            o.CheckpointDirectory = checkpoints;
            o.Augmentation.Mixup = 1;
            o.Augmentation.CutMix = 0.5;
        });
        using var uninterrupted = Student();
        JobRuns.Distill(uninterrupted, data, targets, options(null), new DistillationOptions());

        var checkpoints = Path.Combine(directory, "mixed");
        using var killed = Student();
        using var kill = new CancellationTokenSource();
        var progress = new SynchronousProgress<TrainingProgress>(p => { if (p.Epoch == 2 && p.Step == 3) kill.Cancel(); });
        Assert.Throws<OperationCanceledException>(() => JobRuns.Distill(killed, data, targets, options(checkpoints), new DistillationOptions(), null, progress, kill.Token));
        using var resumed = Student();
        JobRuns.Distill(resumed, data, targets, options(checkpoints), new DistillationOptions());
        Assert.Equal(Weights(uninterrupted), Weights(resumed));

        // Mixing is part of what a checkpoint must agree on.
        using var other = Student();
        var ex = Assert.Throws<InvalidOperationException>(() => JobRuns.Distill(other, data, targets,
            Options(o => { o.Epochs = 3; o.CheckpointDirectory = checkpoints; o.Augmentation.Mixup = 0.4; o.Augmentation.CutMix = 0.5; }), new DistillationOptions()));
        Assert.Contains("Mixup", ex.Message);
    }

    [Fact]
    public void The_metrics_log_has_a_row_per_epoch()
    {
        var metrics = Path.Combine(directory, "metrics.csv");
        using var student = Student();
        var history = Distill(student, Options(o => o.MetricsPath = metrics));
        var lines = File.ReadAllLines(metrics);
        Assert.Equal(MetricsLog.Header, lines[0]);
        Assert.Equal(3, lines.Length);
        var last = lines[2].Split(',');
        Assert.Equal("2", last[0]);
        Assert.Equal(history[1].ValidationAccuracy!.Value, double.Parse(last[4], System.Globalization.CultureInfo.InvariantCulture), 9);
        Assert.True(double.Parse(last[5], System.Globalization.CultureInfo.InvariantCulture) < 2e-3 * 0.5, "cosine schedule: below half the base rate by the end");
    }

    [Theory]
    [InlineData(EarlyStoppingMetric.ValidationLoss)]
    [InlineData(EarlyStoppingMetric.ValidationAccuracy)]
    public void Early_stopping_keeps_the_best_epochs_weights(EarlyStoppingMetric metric)
    {
        using var student = Student();
        // 50 training images and a high learning rate overfit within a few epochs, so the validation metric stalls.
        var history = NetworkTrainer.TrainSupervised(student, TrainingFixtures.Train.Take(50), Options(o =>
        {
            o.Epochs = 20; o.LearningRate = 0.02; o.Schedule = ScheduleKind.Constant; o.WarmupEpochs = 0; o.BatchSize = 25;
            o.Augmentation = new AugmentationOptions(); o.EarlyStoppingPatience = 2; o.EarlyStoppingMetric = metric;
        }), validation: TrainingFixtures.Validation);
        Assert.True(history.Count < 20, $"ran all {history.Count} epochs");
        var (loss, accuracy) = TrainingLoop.Evaluate(student, TrainingFixtures.Validation, CPU);
        if (metric == EarlyStoppingMetric.ValidationLoss)
            Assert.Equal(history.Min(e => e.ValidationLoss!.Value), loss, 6);
        else
            Assert.Equal(history.Max(e => e.ValidationAccuracy!.Value), accuracy, 9);
    }

    [Theory]
    [InlineData(OptimizerKind.Adam, 2e-3, false)]
    [InlineData(OptimizerKind.AdamW, 2e-3, false)]
    [InlineData(OptimizerKind.Sgd, 0.05, true)]
    public void Every_optimizer_learns(OptimizerKind optimizer, double learningRate, bool nesterov)
    {
        using var student = Student();
        var history = Distill(student, Options(o => { o.Optimizer = optimizer; o.LearningRate = learningRate; o.Nesterov = nesterov; o.WeightDecay = 1e-4; o.Epochs = 3; }));
        Assert.True(history[^1].ValidationAccuracy > 0.4, $"{optimizer}: validation accuracy {history[^1].ValidationAccuracy}");
    }

    [Fact]
    public void Cuda_falls_back_to_the_cpu_with_a_message()
    {
        var messages = new List<string>();
        using var student = Student();
        Distill(student, Options(o => { o.Epochs = 1; o.Device = "cuda"; }), progress: new SynchronousProgress<TrainingProgress>(p => { if (p.Message is { } m) messages.Add(m); }));
        Assert.Contains(messages, m => m.Contains("Device cuda was requested but CUDA is not available"));
        Assert.Throws<ArgumentException>(() => Distill(student, Options(o => o.Device = "tpu")));
    }

    [Fact]
    public void Early_stopping_without_validation_data_is_refused()
    {
        using var student = Student();
        var ex = Assert.Throws<ArgumentException>(() => NetworkTrainer.TrainSupervised(student, TrainingFixtures.Train, Options(o => o.EarlyStoppingPatience = 2)));
        Assert.Contains("validation", ex.Message);
    }
}
