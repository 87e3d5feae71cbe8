using Mtkd.Training.Networks;
using Mtkd.Training.Engine;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Engine;

public sealed class TeacherGenerationTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-teachers-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static float[] Weights(SequentialNetwork network) => network.parameters().SelectMany(p => p.detach().data<float>().ToArray()).ToArray();

    [Fact]
    public void Bagging_trains_different_teachers_on_different_subsets()
    {
        var options = new TrainerOptions { Epochs = 3, BatchSize = 25, Seed = 10, MetricsPath = Path.Combine(directory, "teacher.csv") };
        var teachers = TeacherGeneration.Bagging(TrainingFixtures.Train, NetworkPresets.Get(NetworkPresets.CnnSmall), 2, 0.5, options, TrainingFixtures.Validation).ToArray();
        try
        {
            Assert.Equal([0, 1], teachers.Select(t => t.Index));
            Assert.NotEqual(Weights(teachers[0].Network), Weights(teachers[1].Network));
            Assert.All(teachers, t => Assert.True(t.ValidationAccuracy > 0.3, $"teacher {t.Index}: {t.ValidationAccuracy}"));
            Assert.True(File.Exists(Path.Combine(directory, "teacher-0.csv")));
            Assert.True(File.Exists(Path.Combine(directory, "teacher-1.csv")));
        }
        finally
        {
            foreach (var t in teachers) t.Network.Dispose();
        }
    }

    [Fact]
    public void Seeds_train_every_teacher_on_all_the_data_each_from_its_own_seed()
    {
        var data = TrainingFixtures.Train.Take(100);
        var options = new TrainerOptions { Epochs = 1, BatchSize = 25, Seed = 10 };
        var teachers = TeacherGeneration.Seeds(data, NetworkPresets.Get(NetworkPresets.CnnSmall), 2, options).ToArray();
        try
        {
            Assert.All(teachers, t => Assert.Null(t.TrainingRows)); // every row
            Assert.NotEqual(Weights(teachers[0].Network), Weights(teachers[1].Network));
            // Teacher 1 is the network a plain training from seed 11 gives: the seed is the only difference between members.
            using var alone = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, 11);
            NetworkTrainer.TrainSupervised(alone, data, new TrainerOptions { Epochs = 1, BatchSize = 25, Seed = 11 });
            Assert.Equal(Weights(alone), Weights(teachers[1].Network));
        }
        finally
        {
            foreach (var t in teachers) t.Network.Dispose();
        }
    }

    [Fact]
    public void Snapshots_are_taken_at_the_end_of_each_cosine_cycle()
    {
        var options = new TrainerOptions { BatchSize = 50, Seed = 10, LearningRate = 5e-3 };
        var snapshots = TeacherGeneration.Snapshots(TrainingFixtures.Train, NetworkPresets.Get(NetworkPresets.CnnSmall), 3, 2, options, TrainingFixtures.Validation);
        try
        {
            Assert.Equal(3, snapshots.Count);
            Assert.All(snapshots, s => Assert.Equal(2, s.History.Count));
            // The rate restarts each cycle: high at the start of a cycle, low at its end.
            Assert.All(snapshots, s => Assert.True(s.History[0].LearningRate > 2 * s.History[1].LearningRate));
            Assert.NotEqual(Weights(snapshots[0].Network), Weights(snapshots[2].Network));
            // Each snapshot holds the weights of its cycle's last epoch: evaluating it gives that epoch's validation accuracy.
            foreach (var s in snapshots)
                Assert.Equal(s.ValidationAccuracy!.Value, TrainingLoop.Evaluate(s.Network, TrainingFixtures.Validation, CPU).Accuracy, 9);
        }
        finally
        {
            foreach (var s in snapshots) s.Network.Dispose();
        }
    }
}
