using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Engine;

namespace Mtkd.Training.Tests.Distillation;

/// <summary>Knowledge adjustment: a teacher's wrong top class swapped with the true class before distilling.</summary>
public sealed class DistillationAdjustmentTests
{
    [Fact]
    public void Wrong_top_classes_swap_with_the_true_class_and_right_ones_are_untouched()
    {
        // Two images, two teachers, three classes. Worked by hand.
        float[] logits =
        [
            3, 1, 0,   0, 2, 1,    // image 0, label 1: teacher 0 wrong (top 0), teacher 1 right
            5, 5, 1,   1, 2, 7,    // image 1, label 0: teacher 0 tied at the top (already ranks 0 first), teacher 1 wrong (top 2)
        ];
        var adjusted = TeacherLogitAdjustment.SwapWrongPredictions(logits, [1, 0], teacherCount: 2, classCount: 3);
        Assert.Equal(new float[] { 1, 3, 0, 0, 2, 1, 5, 5, 1, 7, 2, 1 }, adjusted);
        Assert.Equal(3, logits[0]); // the input is left alone
    }

    [Fact]
    public void Bad_shapes_and_labels_are_refused_with_what_was_expected()
    {
        var e = Assert.Throws<ArgumentException>(() => TeacherLogitAdjustment.SwapWrongPredictions(new float[5], [0], 2, 3));
        Assert.Contains("expected 1 images × 2 teachers × 3 classes = 6", e.Message);
        Assert.Contains("Label 3 of image 0", Assert.Throws<ArgumentOutOfRangeException>(() =>
            TeacherLogitAdjustment.SwapWrongPredictions(new float[3], [3], 1, 3)).Message);
    }

    [Fact]
    public void Adjusting_changes_what_the_student_learns_only_where_a_teacher_was_wrong()
    {
        var data = TrainingFixtures.Train.Take(64);
        // Synthetic teachers (labelled as such): noisy enough that some top classes are wrong.
        var logits = TrainingFixtures.SyntheticTeacherLogits(data, teachers: 2, strength: 1);
        var adjusted = TeacherLogitAdjustment.SwapWrongPredictions(logits, data.Labels, 2, data.ClassCount);
        Assert.NotEqual(logits, adjusted);
        Assert.Equal(1.0, Mtkd.Training.Fusion.SoftLabelAccuracy.Teacher(adjusted, data.Labels, 2, data.ClassCount, 0));

        float[] Train(bool adjust)
        {
            using var student = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 3);
            JobRuns.Distill(student, data, new Signals(logits, 2), new TrainerOptions { Epochs = 1, BatchSize = 32, Seed = 3 },
                new DistillationOptions { Alpha = 0, AdjustWrongTeachers = adjust });
            return student.parameters().SelectMany(p => p.detach().data<float>().ToArray()).ToArray();
        }
        Assert.NotEqual(Train(adjust: false), Train(adjust: true));
    }

    [Fact]
    public void Adjustment_is_refused_for_online_teachers_and_supernet2()
    {
        var data = TrainingFixtures.Train.Take(8);
        using var teacher = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 1);
        using var student = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 2);
        var online = new Signals([], 1, OnlineTeachers: new NetworkTeachers([teacher]));
        var e = Assert.Throws<ArgumentException>(() => JobRuns.Distill(student, data, online, new TrainerOptions { Epochs = 1 },
            new DistillationOptions { AdjustWrongTeachers = true }));
        Assert.Contains("online teachers", e.Message);
        var stored = new Signals(new float[8 * 10], 1, TeacherFeatures: new float[8 * 4]);
        e = Assert.Throws<ArgumentException>(() => JobRuns.Distill(student, data, stored, new TrainerOptions { Epochs = 1 },
            new DistillationOptions { Method = new Mtkd.Training.Distillation.Methods.Supernet2(), AdjustWrongTeachers = true }));
        Assert.Contains("supernet2", e.Message);
    }
}
