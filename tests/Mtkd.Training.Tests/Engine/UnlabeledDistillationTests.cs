using Mtkd.Training;
using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Engine;
using TorchSharp;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Engine;

/// <summary>Images without labels: they learn from the teachers alone, and the hard term is the mean over the labelled rows.</summary>
public sealed class UnlabeledDistillationTests
{
    public UnlabeledDistillationTests() => TorchRuntime.EnsureLoaded();

    private static (float[] Student, float[] Row1) Gradients(string method, double alpha, long secondLabel)
    {
        using var student = tensor(new float[] { 1, 0, -1, 0.5f, 0.2f, -0.3f }, [2, 3]).requires_grad_();
        using var teachers = tensor(new float[] { 2, 0, 0, 0, 1, 0, 0, 0, 3, 1, 1, 0 }, [2, 2, 3]);
        using var labels = tensor(new long[] { 0, secondLabel }, [2]);
        using var loss = MethodLoss.Of(DistillationMethods.Create(method), student, teachers, labels, temperature: 2, alpha);
        loss.backward();
        var g = student.grad!.data<float>().ToArray();
        return (g, g[3..]);
    }

    [Theory]
    [InlineData("output_avg")]
    [InlineData("loss_avg")]
    [InlineData("confidence")]
    public void An_unlabelled_row_gets_no_hard_gradient(string mode)
    {
        // α = 1 is the hard term alone: the unlabelled row must not move.
        var (_, row1) = Gradients(mode, alpha: 1, secondLabel: ImageDataset.Unlabeled);
        Assert.All(row1, g => Assert.Equal(0f, g));

        // With both terms its gradient is the soft term's alone: the same as with α = 0, scaled by 1 − α.
        var (_, mixed) = Gradients(mode, alpha: 0.5, secondLabel: ImageDataset.Unlabeled);
        var (_, softOnly) = Gradients(mode, alpha: 0, secondLabel: ImageDataset.Unlabeled);
        for (int i = 0; i < 3; i++) Assert.Equal(0.5 * softOnly[i], mixed[i], 6);
    }

    [Fact]
    public void The_hard_term_is_the_mean_over_the_labelled_rows()
    {
        using var logits = tensor(new float[] { 2, 0, 0, 1 }, [2, 2]);
        using var one = tensor(new long[] { 0, ImageDataset.Unlabeled }, [2]);
        using var oneTargets = LabelTargets.From(one, 2);
        using var loss = DistillationLoss.HardLoss(logits, oneTargets);
        Assert.Equal(Math.Log(1 + Math.Exp(-2)), loss.item<float>(), 5); // row 0 alone, not halved
        using var none = tensor(new long[] { -1, -1 }, [2]);
        using var noTargets = LabelTargets.From(none, 2);
        using var zero = DistillationLoss.HardLoss(logits, noTargets);
        Assert.Equal(0f, zero.item<float>());
    }

    [Fact]
    public void Unlabelled_images_teach_through_the_teachers_and_accuracy_counts_the_labelled()
    {
        var labelled = TrainingFixtures.Train.Take(100);
        var data = labelled.Concat(TrainingFixtures.Train.Subset(Enumerable.Range(100, 300).ToArray()).WithoutLabels());
        Assert.Equal(100, data.LabeledCount);
        var logits = TrainingFixtures.SyntheticTeacherLogits(TrainingFixtures.Train, 2); // synthetic teachers that know every label
        var options = new TrainerOptions { Epochs = 4, BatchSize = 50, Seed = 4 };

        using var withUnlabelled = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 2);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var history = JobRuns.Distill(withUnlabelled, data, new Signals(logits, 2), options, new DistillationOptions(), TrainingFixtures.Validation);
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        using var labelledOnly = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 2);
        var alone = JobRuns.Distill(labelledOnly, labelled, new Signals(logits[..(100 * 2 * 10)], 2), options, new DistillationOptions(), TrainingFixtures.Validation);
        // The 300 unlabelled images carry the teachers' knowledge of their classes: well above what the 100 alone teach.
        Assert.True(history[^1].ValidationAccuracy > alone[^1].ValidationAccuracy + 0.05,
            $"validation accuracy {history[^1].ValidationAccuracy} with the unlabelled images, {alone[^1].ValidationAccuracy} without");

        // Mixing labelled with unlabelled rows leaks nothing either.
        before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        JobRuns.Distill(withUnlabelled, data, new Signals(logits, 2),
            new TrainerOptions { Epochs = 1, BatchSize = 50, Augmentation = new AugmentationOptions { Mixup = 1, CutMix = 1 } }, new DistillationOptions());
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);

        var refused = Assert.Throws<ArgumentException>(() => NetworkTrainer.TrainSupervised(withUnlabelled, data, new TrainerOptions { Epochs = 1 }));
        Assert.Contains("300 of the 400 have none", refused.Message);
        var supernet = Assert.Throws<ArgumentException>(() => JobRuns.Distill(withUnlabelled, data, new Signals(logits, 2),
            new TrainerOptions { Epochs = 1 }, new DistillationOptions { Method = new Mtkd.Training.Distillation.Methods.Supernet() }));
        Assert.Contains("300 images have none", supernet.Message);
        Assert.Throws<ArgumentException>(() => NetworkTrainer.Evaluate(withUnlabelled, data));
    }

    [Fact]
    public void Labels_outside_the_classes_are_still_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ImageDataset(new float[4], [-2], 1, 2, 2, ["a", "b"]));
        Assert.Contains("Label -2", ex.Message);
    }
}
