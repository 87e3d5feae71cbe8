using Mtkd.Training.Data;
using Mtkd.Training.Networks;
using Mtkd.Training.Engine;
using TorchSharp;

namespace Mtkd.Training.Tests.Engine;

public sealed class TensorLeakTests
{
    private static long LiveTensors() => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    // Synthetic noise images and teacher logits: only tensor bookkeeping is checked.
    private static (ImageDataset Data, float[] TeacherLogits) NoiseImagesAndLogits(int images, int teachers, int seed)
    {
        var random = new Random(seed);
        var data = new ImageDataset(
            Enumerable.Range(0, images * 784).Select(_ => (float)random.NextDouble()).ToArray(),
            Enumerable.Range(0, images).Select(i => i % 10).ToArray(), 1, 28, 28, FashionMnist.ClassNames);
        return (data, Enumerable.Range(0, images * teachers * 10).Select(_ => (float)random.NextDouble()).ToArray());
    }

    [Fact]
    public void TrainingAndDistillationLeaveNoTensorsBehind()
    {
        var (data, teacherLogits) = NoiseImagesAndLogits(images: 96, teachers: 2, seed: 5);
        using var network = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 1);

        long before = LiveTensors();
        NetworkTrainer.TrainSupervised(network, data, new TrainerOptions { Epochs = 2, BatchSize = 32 });
        long afterTraining = LiveTensors();
        JobRuns.Distill(network, data, new Signals(teacherLogits, 2), new TrainerOptions { Epochs = 3, BatchSize = 32 }, new());
        NetworkTrainer.PredictLogits(network, data);
        long afterDistillation = LiveTensors();

        Assert.Equal(before, afterTraining);
        Assert.Equal(before, afterDistillation);
    }

    [Fact]
    public void Every_training_feature_leaves_no_tensors_behind_and_counts_stay_flat_across_epochs()
    {
        var (data, teacherLogits) = NoiseImagesAndLogits(images: 64, teachers: 3, seed: 6);
        using var student = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.ResNet8, 4), data, seed: 1, heads: 3);
        var options = new TrainerOptions
        {
            Epochs = 4, BatchSize = 16, Optimizer = OptimizerKind.Sgd, Schedule = ScheduleKind.OneCycle, WarmupEpochs = 1,
            EarlyStoppingPatience = 10, Augmentation = new AugmentationOptions { ShiftPixels = 2, HorizontalFlip = true, RotationDegrees = 10 },
        };
        var perEpoch = new List<long>();
        var progress = new SynchronousProgress<TrainingProgress>(p => { if (p.Completed is not null) perEpoch.Add(LiveTensors()); });

        long before = LiveTensors();
        JobRuns.Distill(student, data, new Signals(teacherLogits, 3), options,
            new Mtkd.Training.Distillation.DistillationOptions { Method = new Mtkd.Training.Distillation.Methods.MimicAll() }, data.Take(20), progress);
        long after = LiveTensors();

        Assert.Equal(before, after);
        Assert.Equal(4, perEpoch.Count);
        Assert.All(perEpoch, count => Assert.Equal(perEpoch[0], count)); // nothing accumulates from one epoch to the next
    }
}
