using Mtkd.Training;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Engine;

namespace Mtkd.Training.Tests.Engine;

/// <summary>Cross-fitted teachers: each row's soft label comes only from teachers that never trained on it.</summary>
public sealed class CrossFitTests
{
    public CrossFitTests() => TorchRuntime.EnsureLoaded();

    [Fact]
    public void Every_row_has_exactly_one_teacher_that_never_saw_it()
    {
        var data = TrainingFixtures.Train.Take(90);
        // Early stopping without validation data: each teacher validates on the fold it does not train on.
        var teachers = TeacherGeneration.CrossFit(data, NetworkPresets.Get(NetworkPresets.CnnSmall, 2), folds: 3,
            new TrainerOptions { Epochs = 2, BatchSize = 45, Seed = 7, EarlyStoppingPatience = 1 }).ToArray();
        try
        {
            var mask = TeacherGeneration.InBagMask(teachers, rowCount: 100, trainingRowCount: data.Count);
            var fold = TeacherGeneration.FoldOf(data.Count, 3, seed: 7);
            for (int i = 0; i < data.Count; i++)
                for (int k = 0; k < 3; k++)
                    Assert.Equal(fold[i] != k, mask[i * 3 + k]); // teacher k skipped exactly fold k
            Assert.All(Enumerable.Range(0, data.Count), i => Assert.Equal(2, Enumerable.Range(0, 3).Count(k => mask[i * 3 + k])));
            Assert.All(Enumerable.Range(90, 10), i => Assert.DoesNotContain(true, mask.Skip(i * 3).Take(3))); // rows past the data: nobody's
            Assert.Equal(30, fold.Count(f => f == 0));
            Assert.All(teachers, t => Assert.NotNull(t.ValidationAccuracy)); // measured on its own held-out fold
        }
        finally
        {
            foreach (var t in teachers) t.Network.Dispose();
        }
    }

    [Fact]
    public void Out_of_bag_targets_hold_only_the_unseen_teachers_knowledge()
    {
        // One image, three teachers, two classes; teachers 0 and 1 trained on it, teacher 2 did not.
        float[] logits = [4, 0, 3, 0, 0, 2];
        bool[] inBag = [true, true, false];
        const double t = 2;
        var adjusted = TeacherLogitAdjustment.OutOfBag(logits, inBag, 3, 2, t);
        Assert.Equal([0f, 2f], adjusted[4..]); // the unseen teacher keeps its logits
        double p0 = 1 / (1 + Math.Exp(1)); // teacher 2's softmax([0, 2] / 2) at class 0
        for (int k = 0; k < 2; k++)
        {
            var row = adjusted.AsSpan(k * 2, 2);
            double q0 = Math.Exp(row[0] / t) / (Math.Exp(row[0] / t) + Math.Exp(row[1] / t));
            Assert.Equal(p0, q0, 5); // a seen teacher now says what the unseen one says
        }

        // A row every teacher saw keeps all its logits (nothing unseen to fall back on); one nobody saw too.
        Assert.Equal(logits, TeacherLogitAdjustment.OutOfBag(logits, [true, true, true], 3, 2, t));
        Assert.Equal(logits, TeacherLogitAdjustment.OutOfBag(logits, [false, false, false], 3, 2, t));
    }

    [Fact]
    public void Out_of_bag_distillation_needs_the_mask()
    {
        var data = TrainingFixtures.Train.Take(50);
        using var student = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 1);
        var logits = TrainingFixtures.SyntheticTeacherLogits(data, 2);
        var options = new DistillationOptions { OutOfBagTeachers = true };
        var ex = Assert.Throws<ArgumentException>(() => JobRuns.Distill(student, data, new Signals(logits, 2), new TrainerOptions { Epochs = 1 }, options));
        Assert.Contains("InBag", ex.Message);
        var wrong = Assert.Throws<ArgumentException>(() => JobRuns.Distill(student, data, new Signals(logits, 2) { InBag = new bool[7] }, new TrainerOptions { Epochs = 1 }, options));
        Assert.Contains("TeacherInBag' has 7 values", wrong.Message);
        var history = JobRuns.Distill(student, data, new Signals(logits, 2) { InBag = new bool[100] }, new TrainerOptions { Epochs = 1, BatchSize = 25 }, options);
        Assert.Single(history);
    }
}
