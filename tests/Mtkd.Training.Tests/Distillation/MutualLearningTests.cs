using Mtkd.Training;
using Mtkd.Training.Distillation;
using Mtkd.Training.Distillation.Methods;
using Mtkd.Training.Engine;
using Mtkd.Training.Networks;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Distillation;

/// <summary>Deep mutual learning: the loss and gradient worked by hand, a student that learns from its peer alone, the students a job returns, what it refuses.</summary>
public sealed class MutualLearningTests
{
    public MutualLearningTests() => TorchRuntime.EnsureLoaded();

    // T = 1, α = 0.5, labels (0, 2). Loss = Σ_k 0.5·CE_k + 0.5·KL(q_other ‖ q_k), means over the 2 rows, summed by hand
    // in double precision. Student 0's gradient: the other's prediction is a fixed target, so
    // ∂L/∂z_0 = (0.5·(q_0 − y) + 0.5·(q_0 − q_1)) / 2.
    [Fact]
    public void Loss_and_gradient_by_hand()
    {
        using var z0 = tensor(new float[] { 1.0f, 0.5f, -0.5f, 0.2f, -0.3f, 0.8f }, [2, 3]).requires_grad_();
        using var z1 = tensor(new float[] { 0.0f, 1.0f, 0.0f, 0.5f, 0.0f, 0.5f }, [2, 3]).requires_grad_();
        using var targets = LabelTargets.From(tensor(new long[] { 0, 2 }, [2]), 3);
        using var loss = MutualLearning.Compute([z0, z1], targets, temperature: 1, alpha: 0.5);
        Assert.Equal(1.0840865215489937, loss.item<float>(), 5);
        loss.backward();
        var expected = new[] { -0.029710696, 0.021720259, 0.007990437, 0.049917082, 0.03027624, -0.080193322 };
        var actual = z0.grad!.data<float>().ToArray();
        for (int i = 0; i < 6; i++) Assert.Equal(expected[i], actual[i], 6);
    }

    [Fact]
    public void A_student_learns_from_its_peers_predictions_alone()
    {
        // Student 1 has learned the labels; student 0 is new and is stepped by mutual learning's loss with α = 0 on
        // images without labels, only its own parameters moving: all it can learn from is student 1's predictions.
        var data = TrainingFixtures.Train;
        var spec = NetworkPresets.Get(NetworkPresets.CnnSmall);
        using var peer = NetworkTrainer.CreateNetwork(spec, data, seed: 5);
        NetworkTrainer.TrainSupervised(peer, data, new TrainerOptions { Epochs = 4, BatchSize = 40 });
        using var student = NetworkTrainer.CreateNetwork(spec, data, seed: 6);
        double before = NetworkTrainer.Evaluate(student, TrainingFixtures.Validation).Accuracy;
        var options = new DistillationOptions { Method = new MutualLearning(), Alpha = 0, Temperature = 1 };
        using var run = new MutualLearning().Start(new MethodStart(student, _ => peer, 0, 0, options));
        using var optimizer = TorchSharp.torch.optim.Adam(student.parameters(), 2e-3);
        var unlabeled = tensor(Enumerable.Repeat(-1L, 40).ToArray(), [40]);
        peer.eval();
        for (int epoch = 0; epoch < 4; epoch++)
        {
            student.train();
            for (int start = 0; start < data.Count; start += 40)
            {
                using var scope = NewDisposeScope();
                var images = tensor(data.Subset(Enumerable.Range(start, 40).ToArray()).ReadAllPixels(), [40, 1, 28, 28]);
                using var targets = LabelTargets.From(unlabeled, 10);
                optimizer.zero_grad();
                run.Step(new DistillationBatch(images, null, null, targets, options)).Loss.backward();
                optimizer.step();
            }
        }
        double after = NetworkTrainer.Evaluate(student, TrainingFixtures.Validation).Accuracy;
        double teacher = NetworkTrainer.Evaluate(peer, TrainingFixtures.Validation).Accuracy;
        Assert.True(after > before + 0.25 && after > 0.5 * teacher, $"student {before:P1} → {after:P1} from a peer at {teacher:P1}");
    }

    [Fact]
    public void Every_student_is_returned_and_the_best_on_validation_is_the_student()
    {
        var data = TrainingFixtures.Train;
        using var result = new DistillationJob
        {
            Data = data, Validation = TrainingFixtures.Validation, Trainer = new TrainerOptions { Epochs = 1, BatchSize = 50 },
            Distillation = { Method = new MutualLearning { Students = 3 } },
        }.Run();
        Assert.Equal(3, result.Students.Count);
        Assert.Equal(0, result.TeacherCount);
        var accuracies = result.Students.Select(s => NetworkTrainer.Evaluate(s, TrainingFixtures.Validation).Accuracy).ToArray();
        Assert.Equal(accuracies.Max(), NetworkTrainer.Evaluate(result.Student, TrainingFixtures.Validation).Accuracy);
        // Every student trains, peers too (they were once left out of the optimizer: a bare ModuleList registers nothing).
        Assert.True(accuracies.All(a => a > 0.3), $"students at {string.Join(", ", accuracies.Select(a => a.ToString("P1")))} after one epoch (chance 10 %)");
    }

    [Fact]
    public void Refuses_teachers_and_fewer_than_two_students()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DistillationOptions { Method = new MutualLearning { Students = 1 } }.Validate());
        var data = TrainingFixtures.Train.Take(50);
        var stored = data.WithColumn(Mtkd.Training.Data.TeacherColumns.Logits, TrainingFixtures.SyntheticTeacherLogits(data, 2), 20);
        using var teacher = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 3);
        var ex = Assert.Throws<ArgumentException>(() => new DistillationJob
        {
            Data = stored, Teachers = new NetworkTeachers([teacher]), Distillation = { Method = new MutualLearning() },
        }.Run());
        Assert.Contains("uses no teachers", ex.Message);
    }
}
