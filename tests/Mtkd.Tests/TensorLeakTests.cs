using Mtkd.Training.Data;
using Mtkd.Training.Networks;
using Mtkd.Training.Training;
using TorchSharp;

namespace Mtkd.Tests;

public sealed class TensorLeakTests
{
    private static long LiveTensors() => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    [Fact]
    public void TrainingAndDistillationLeaveNoTensorsBehind()
    {
        var random = new Random(5);
        var data = new ImageDataset( // synthetic noise images: only tensor bookkeeping is checked
            Enumerable.Range(0, 96 * 784).Select(_ => (float)random.NextDouble()).ToArray(),
            Enumerable.Range(0, 96).Select(i => i % 10).ToArray(), 1, 28, 28, FashionMnist.ClassNames);
        var teacherLogits = Enumerable.Range(0, 96 * 2 * 10).Select(_ => (float)random.NextDouble()).ToArray();
        using var network = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 1);

        long before = LiveTensors();
        NetworkTrainer.TrainSupervised(network, data, new TrainerOptions { Epochs = 2, BatchSize = 32 });
        long afterTraining = LiveTensors();
        NetworkTrainer.Distill(network, data, teacherLogits, 2, new TrainerOptions { Epochs = 3, BatchSize = 32 }, new());
        NetworkTrainer.PredictLogits(network, data);
        long afterDistillation = LiveTensors();

        Assert.Equal(before, afterTraining);
        Assert.Equal(before, afterDistillation);
    }
}
