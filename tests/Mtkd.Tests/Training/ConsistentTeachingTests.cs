using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Training;
using TorchSharp;
using Xunit.Abstractions;

namespace Mtkd.Tests.Training;

/// <summary>Teachers asked on every (augmented) training batch instead of stored soft labels.</summary>
public sealed class ConsistentTeachingTests(ITestOutputHelper output)
{
    private static SequentialNetwork[] Teachers()
    {
        var data = TrainingFixtures.Train;
        return Enumerable.Range(0, 2).Select(k =>
        {
            var teacher = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 40 + k);
            NetworkTrainer.TrainSupervised(teacher, data, new TrainerOptions { Epochs = 1, BatchSize = 50, Seed = 40 + k });
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
            NetworkTrainer.Distill(offline, data, new DistillationTargets(stored, 2), options, new DistillationOptions());
            NetworkTrainer.Distill(online, data, new DistillationTargets([], 2, OnlineTeachers: new NetworkTeachers(teachers)), options, new DistillationOptions());
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
            var history = NetworkTrainer.Distill(student, data, new DistillationTargets([], 2, OnlineTeachers: new NetworkTeachers(teachers)),
                new TrainerOptions { Epochs = 2, BatchSize = 50, Augmentation = new AugmentationOptions { ShiftPixels = 2, RotationDegrees = 10 } },
                new DistillationOptions { Mode = DistillationMode.LossAverage }, TrainingFixtures.Validation);
            Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            Assert.True(history[^1].ValidationAccuracy > 0.3, $"validation accuracy {history[^1].ValidationAccuracy}");
            var ex = Assert.Throws<ArgumentException>(() => NetworkTrainer.Distill(student, data, new DistillationTargets([], 2, OnlineTeachers: new NetworkTeachers(teachers)),
                new TrainerOptions { Epochs = 1 }, new DistillationOptions { Mode = DistillationMode.Supernet }));
            Assert.Contains("stored teacher logits", ex.Message);
        }
        finally
        {
            foreach (var t in teachers) t.Dispose();
        }
    }
}
