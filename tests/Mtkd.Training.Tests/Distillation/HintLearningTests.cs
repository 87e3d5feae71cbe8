using Mtkd.Training;
using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Distillation.Methods;
using Mtkd.Training.Engine;
using Mtkd.Training.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Distillation;

/// <summary>Hint learning (FitNets): the hint term worked by hand, its place beside output_avg, what it refuses (its training: DistillationModesTrainingTests).</summary>
public sealed class HintLearningTests
{
    public HintLearningTests() => TorchRuntime.EnsureLoaded();

    // projected − teacher = [[1, 0], [2, 3]]: mean of squares (1 + 0 + 4 + 9) / 4 = 3.5; d/dprojected = 2·diff / 4.
    [Fact]
    public void The_hint_term_and_its_gradient_by_hand()
    {
        using var projected = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]).requires_grad_();
        using var teacher = tensor(new float[] { 0, 2, 1, 1 }, [2, 2]);
        using var loss = HintLearning.HintLoss(projected, teacher);
        Assert.Equal(3.5, loss.item<float>(), 6);
        loss.backward();
        Assert.Equal([0.5f, 0f, 1f, 1.5f], projected.grad!.data<float>().ToArray());
    }

    [Fact]
    public void A_step_is_output_average_plus_the_weighted_hint_of_the_projected_penultimate_features()
    {
        using var scope = NewDisposeScope();
        var data = TrainingFixtures.Train.Take(2);
        using var student = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 1);
        var method = new HintLearning { HintWeight = 0.25 };
        var options = new DistillationOptions { Method = method, Temperature = 2, Alpha = 0.3 };
        using var run = method.Start(new MethodStart(student, _ => throw new InvalidOperationException(), 2, 6, options));
        var images = tensor(data.ReadAllPixels(), [2, 1, 28, 28]);
        var teachers = tensor(Enumerable.Range(0, 40).Select(i => (float)Math.Sin(i)).ToArray(), [2, 2, 10]);
        var features = tensor(new float[] { 1, 0, 2, 0, 1, 0, 0, 1, 0, 2, 0, 1 }, [2, 6]);
        using var targets = LabelTargets.From(tensor(data.Labels.Select(l => (long)l).ToArray(), [2]), 10);
        student.eval(); // no dropout: the two passes below must see the same network
        var (loss, predictions) = run.Step(new DistillationBatch(images, teachers, features, targets, options));

        var (logits, hint) = student.ForwardWithIntermediate(images, student.Spec.Layers.Count - 2);
        var projector = (nn.Module<Tensor, Tensor>)run.Companions!.children().Single();
        var expected = Mtkd.Training.Distillation.Methods.OutputAverage.Compute(logits, teachers, targets, 2, 0.3)
            + 0.25 * (projector.forward(hint) - features).pow(2).mean();
        Assert.Equal(expected.item<float>(), loss.item<float>(), 5);
        Assert.Equal(logits.data<float>().ToArray(), predictions.data<float>().ToArray());
        Assert.Equal(hint.shape[1] * 6 + 6, projector.parameters().Sum(p => p.numel())); // a linear layer: the hint is a vector
    }

    [Fact]
    public void The_students_features_learn_from_the_teachers_features_alone()
    {
        // A trained teacher's penultimate features are the only signal: images without labels, α = 1 (no weight on
        // the logits). Stepping the student and its projector on the hint must make the student's own features
        // predict the teacher's on other images far better than the projector can from the untrained student's
        // features (the same steps with the student frozen): the student learned from the features.
        var data = TrainingFixtures.Train;
        using var teacher = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall, 16), data, seed: 7);
        NetworkTrainer.TrainSupervised(teacher, data, new TrainerOptions { Epochs = 3, BatchSize = 40 });
        var teachers = new NetworkTeachers([teacher]);
        double Error(bool trainStudent)
        {
            using var student = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 1);
            var method = new HintLearning();
            var options = new DistillationOptions { Method = method, Alpha = 1 };
            using var run = method.Start(new MethodStart(student, _ => throw new InvalidOperationException(), 1, teachers.FeatureWidth, options));
            var parameters = trainStudent ? student.parameters().Concat(run.Companions!.parameters()) : run.Companions!.parameters();
            using var optimizer = optim.Adam(parameters, 2e-3);
            using var unlabeled = tensor(Enumerable.Repeat(-1L, 40).ToArray(), [40]);
            for (int epoch = 0; epoch < 3; epoch++)
                for (int start = 0; start < data.Count; start += 40)
                {
                    using var scope = NewDisposeScope();
                    var images = tensor(data.Subset(Enumerable.Range(start, 40).ToArray()).ReadAllPixels(), [40, 1, 28, 28]);
                    using var targets = LabelTargets.From(unlabeled, 10);
                    optimizer.zero_grad();
                    run.Step(new DistillationBatch(images, teachers.Score(images), teachers.ScoreFeatures(images), targets, options)).Loss.backward();
                    optimizer.step();
                }
            using var noGrad = no_grad();
            using var evaluation = NewDisposeScope();
            student.eval();
            var validation = tensor(TrainingFixtures.Validation.ReadAllPixels(), [TrainingFixtures.Validation.Count, 1, 28, 28]);
            var (_, hint) = student.ForwardWithIntermediate(validation, student.Spec.Layers.Count - 2);
            var projector = (nn.Module<Tensor, Tensor>)run.Companions!.children().Single();
            return HintLearning.HintLoss(projector.forward(hint), teachers.ScoreFeatures(validation)).item<float>();
        }
        double taught = Error(trainStudent: true), frozen = Error(trainStudent: false);
        Assert.True(taught < 0.7 * frozen, $"held-out hint error {taught:F4} with the student learning, {frozen:F4} with it frozen");
    }

    [Fact]
    public void Is_refused_without_teacher_features()
    {
        var data = TrainingFixtures.Train.Take(50);
        var stored = data.WithColumn(TeacherColumns.Logits, TrainingFixtures.SyntheticTeacherLogits(data, 2), 20);
        var ex = Assert.Throws<ArgumentException>(() => new DistillationJob { Data = stored, Distillation = { Method = new HintLearning() } }.Run());
        Assert.Contains("features", ex.Message);
    }
}
