using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Engine;
using TorchSharp;
using Xunit.Abstractions;

namespace Mtkd.Training.Tests.Engine;

/// <summary>Teachers asked on every (augmented) training batch instead of stored soft labels.</summary>
public sealed class ConsistentTeachingTests(ITestOutputHelper output)
{
    private static SequentialNetwork[] Teachers()
    {
        var data = TrainingFixtures.Train;
        return Enumerable.Range(0, 2).Select(k =>
        {
            var teacher = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 40 + k);
            NetworkTrainer.TrainSupervised(teacher, data, new TrainerOptions { Epochs = 4, BatchSize = 50, Seed = 40 + k }); // good enough to teach alone
            return teacher;
        }).ToArray();
    }

    private static float[] Weights(SequentialNetwork network) => network.parameters().SelectMany(p => p.detach().data<float>().ToArray()).ToArray();

    [Fact]
    public void Without_augmentation_online_teachers_teach_what_stored_soft_labels_teach()
    {
        var data = TrainingFixtures.Train;
        var teachers = Teachers();
        try
        {
            // Stored soft labels: every teacher's logits per image, teacher-major.
            var perTeacher = teachers.Select(t => NetworkTrainer.PredictLogits(t, data)).ToArray();
            var stored = new float[data.Count * 2 * 10];
            for (int i = 0; i < data.Count; i++)
                for (int k = 0; k < 2; k++)
                    Array.Copy(perTeacher[k], i * 10, stored, (i * 2 + k) * 10, 10);
            var options = new TrainerOptions { Epochs = 1, BatchSize = 50, Seed = 3 };
            using var offline = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 5);
            using var online = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 5);
            var initial = Weights(offline);
            JobRuns.Distill(offline, data, new Signals(stored, 2), options, new DistillationOptions());
            JobRuns.Distill(online, data, new Signals([], 2, OnlineTeachers: new NetworkTeachers(teachers)), options, new DistillationOptions());
            // The same teachers give the same logits up to float rounding between batch sizes, which Adam can
            // magnify for weights whose gradient is near zero: so the two runs are compared by how far training
            // moved the weights, where a wrong teacher order or target would differ by as much as the move itself.
            var (a, b) = (Weights(offline), Weights(online));
            double moved = a.Zip(initial, (x, y) => (double)Math.Abs(x - y)).Average();
            double apart = a.Zip(b, (x, y) => (double)Math.Abs(x - y)).Average();
            output.WriteLine($"mean |Δ weight| offline vs online: {apart:G3}, mean distance trained: {moved:G3}, max |Δ weight|: {a.Zip(b, (x, y) => Math.Abs(x - y)).Max():G3}");
            Assert.True(apart < 0.01 * moved, $"mean |Δ weight| offline vs online {apart:G3}, against {moved:G3} moved by training");
        }
        finally
        {
            foreach (var t in teachers) t.Dispose();
        }
    }

    [Fact]
    public void With_augmentation_teachers_see_the_augmented_batch_and_nothing_leaks()
    {
        var data = TrainingFixtures.Train;
        var teachers = Teachers();
        try
        {
            using var student = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 5);
            long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            var history = JobRuns.Distill(student, data, new Signals([], 2, OnlineTeachers: new NetworkTeachers(teachers)),
                new TrainerOptions { Epochs = 2, BatchSize = 50, Augmentation = new AugmentationOptions { ShiftPixels = 2, RotationDegrees = 10 } },
                new DistillationOptions { Method = new Mtkd.Training.Distillation.Methods.LossAverage(), Alpha = 0, Temperature = 4 }, TrainingFixtures.Validation); // the teachers alone
            Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            Assert.True(history[^1].ValidationAccuracy > 0.3, $"validation accuracy {history[^1].ValidationAccuracy}");
            var ex = Assert.Throws<ArgumentException>(() => JobRuns.Distill(student, data, new Signals([], 2, OnlineTeachers: new NetworkTeachers(teachers)),
                new TrainerOptions { Epochs = 1 }, new DistillationOptions { Method = new Mtkd.Training.Distillation.Methods.Supernet() }));
            Assert.Contains("stored teacher logits", ex.Message);
        }
        finally
        {
            foreach (var t in teachers) t.Dispose();
        }
    }

    /// <summary>Records every batch it is asked to score and answers with uniform logits.</summary>
    private sealed class RecordingTeachers : IBatchTeachers
    {
        public List<float[]> Seen { get; } = [];

        public int TeacherCount => 1;

        public torch.Tensor Score(torch.Tensor images)
        {
            Seen.Add(images.data<float>().ToArray());
            return torch.zeros(images.shape[0], 1, 10);
        }
    }

    /// <summary>Cancels its token after the first batch it scores.</summary>
    private sealed class StoppingTeachers(CancellationTokenSource stop) : IBatchTeachers
    {
        public int Calls { get; private set; }

        public int TeacherCount => 1;

        public torch.Tensor Score(torch.Tensor images)
        {
            Calls++;
            stop.Cancel();
            return torch.zeros(images.shape[0], 1, 10);
        }
    }

    [Fact]
    public void A_stop_while_the_teachers_score_the_data_before_training_ends_the_run_at_the_next_block()
    {
        var data = TrainingFixtures.Train; // 400 images: two blocks of 256
        using var stop = new CancellationTokenSource();
        var teachers = new StoppingTeachers(stop);
        var job = new DistillationJob
        {
            Data = data, Teachers = teachers, Student = NetworkPresets.Get(NetworkPresets.CnnSmall), Trainer = new TrainerOptions { Epochs = 1 },
        };
        var e = Assert.Throws<OperationCanceledException>(() => job.Run(stop.Token));
        Assert.Equal(1, teachers.Calls);
        Assert.Contains("stopped after 256 of 400 images were scored", e.Message);
    }

    [Fact]
    public void Online_teachers_score_exactly_the_shifted_flipped_and_mixed_batch_the_student_sees()
    {
        var data = TrainingFixtures.Train.Take(64);
        var augmentation = new AugmentationOptions { ShiftPixels = 2, HorizontalFlip = true, Mixup = 1, CutMix = 1 };
        var options = new TrainerOptions { Epochs = 1, BatchSize = 32, Seed = 11, Augmentation = augmentation };
        var teachers = new RecordingTeachers();
        using var student = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 1);
        JobRuns.Distill(student, data, new Signals([], 1, OnlineTeachers: teachers), options, new DistillationOptions());

        // The loop's own draws, replayed: batch order, then per batch the augmentation and the mixing from one stream.
        var order = Enumerable.Range(0, data.Count).Select(i => (long)i).ToArray();
        new Random(TrainingLoop.Mix(options.Seed, 1, 2)).Shuffle(order);
        var augmentRandom = new Random(TrainingLoop.Mix(options.Seed, 1, 3));
        using var all = torch.tensor(data.ReadAllPixels(), [data.Count, data.Channels, data.Height, data.Width]);
        Assert.Equal(2, teachers.Seen.Count);
        for (int s = 0; s < 2; s++)
        {
            using var scope = torch.NewDisposeScope();
            var batch = all.index_select(0, torch.tensor(order.AsSpan(s * 32, 32).ToArray()));
            var (expected, mix) = BatchMixing.Apply(TensorAugmentation.Apply(batch, augmentation, augmentRandom), augmentation, augmentRandom);
            Assert.NotNull(mix);
            Assert.Equal(expected.data<float>().ToArray(), teachers.Seen[s]);
        }
    }
    /// <summary>Teachers that fail on their nth batch, as a broken ONNX teacher would.</summary>
    private sealed class FailingTeachers(IBatchTeachers inner, int failAt) : IBatchTeachers
    {
        private int calls;
        public int TeacherCount => inner.TeacherCount;
        public TorchSharp.torch.Tensor Score(TorchSharp.torch.Tensor images) =>
            ++calls == failAt ? throw new InvalidDataException($"teacher failed on batch {calls}") : inner.Score(images);
    }

    [Fact]
    public void Scoring_ahead_on_a_thread_of_its_own_gives_the_weights_of_scoring_in_turn_and_leaks_nothing()
    {
        var data = TrainingFixtures.Train;
        var networks = Enumerable.Range(0, 2).Select(k => NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 60 + k)).ToArray();
        // Two intra-op threads on this test's thread (the count is per thread), so neither run splits them: the same bits are expected.
        int threads = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(2);
        try
        {
            var job = new DistillationJob
            {
                Data = data, Teachers = new NetworkTeachers(networks), ConsistentTeaching = true,
                Trainer = new TrainerOptions { Epochs = 2, BatchSize = 50, Seed = 7, Augmentation = new AugmentationOptions { ShiftPixels = 2, HorizontalFlip = true, Mixup = 1 } },
            };
            long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount, preparingBefore = BatchPipeline.PreparingThreadsLiveTensors;
            float[] ahead;
            using (var run = (job with { ScoreAhead = true }).Run())
            using (TorchSharp.torch.NewDisposeScope()) // Weights' detached copies
                ahead = Weights(run.Student);
            // Nothing left alive on either thread (each frees what it made: the steps hand their batches back).
            Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            Assert.Equal(preparingBefore, BatchPipeline.PreparingThreadsLiveTensors);
            using var inTurn = (job with { ScoreAhead = false }).Run();
            Assert.Equal(ahead, Weights(inTurn.Student));

            // A teacher failing on the preparing thread stops the run with its own error, on the training thread.
            long beforeFailure = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            preparingBefore = BatchPipeline.PreparingThreadsLiveTensors;
            var error = Assert.Throws<InvalidDataException>(() => (job with { ScoreAhead = true, Teachers = new FailingTeachers(new NetworkTeachers(networks), 3) }).Run());
            Assert.Equal("teacher failed on batch 3", error.Message);
            Assert.Equal(beforeFailure, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            Assert.Equal(preparingBefore, BatchPipeline.PreparingThreadsLiveTensors);
        }
        finally
        {
            TorchSharp.torch.set_num_threads(threads);
            foreach (var n in networks) n.Dispose();
        }
    }
}
