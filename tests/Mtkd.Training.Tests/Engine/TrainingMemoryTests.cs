using Mtkd.Training.Engine;
using Mtkd.Training.Networks;

namespace Mtkd.Training.Tests.Engine;

/// <summary>An absurd width or batch is refused from the spec, before anything is allocated, saying what would fit.</summary>
public sealed class TrainingMemoryTests
{
    [Fact]
    public void A_network_too_wide_for_memory_is_refused_before_it_is_built()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall, 100_000), TrainingFixtures.Train, seed: 1));
        Assert.Contains("parameters: training it needs about", e.Message);
        Assert.Contains("choose a smaller width", e.Message);
    }

    [Fact]
    public void A_batch_too_large_for_memory_is_refused_naming_the_largest_that_fits()
    {
        using var network = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), TrainingFixtures.Train, seed: 1);
        var real = TrainingMemory.Available;
        TrainingMemory.Available = () => 20L << 20; // a machine with 20 MiB
        try
        {
            var e = Assert.Throws<ArgumentException>(() =>
                NetworkTrainer.TrainSupervised(network, TrainingFixtures.Train, new TrainerOptions { Epochs = 1, BatchSize = 400 }));
            Assert.Contains("A batch of 400 images", e.Message);
            Assert.Matches(@"at most about \d+ images fit", e.Message);
        }
        finally
        {
            TrainingMemory.Available = real;
        }
    }

    [Fact]
    public void A_batch_larger_than_the_data_is_the_whole_data()
    {
        using var network = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), TrainingFixtures.Train, seed: 1);
        var history = NetworkTrainer.TrainSupervised(network, TrainingFixtures.Train.Take(64), new TrainerOptions { Epochs = 1, BatchSize = 1_000_000_000 });
        Assert.Single(history);
    }
}
