using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet;
using Mtkd.MLNet.Data;
using Mtkd.MLNet.Distillation;
using Mtkd.Training.Data;
using Mtkd.Training.Networks;
using Mtkd.Training.Engine;

namespace Mtkd.MLNet.Tests.Distillation;

/// <summary>The ML.NET trainer with unlabelled rows (missing keys, or an UnlabeledData view) and the α = 1 label-trained baseline.</summary>
[Collection(TinyFashionMnistCollection.Name)]
public sealed class UnlabeledDistillationInMlNetTests(TinyFashionMnist data)
{
    private static float[] Scores(IDataView scored) => scored.GetColumn<float[]>("Score").SelectMany(r => r).ToArray();

    [Fact]
    public void Rows_with_a_missing_key_and_an_unlabelled_view_both_train_and_the_same_rows_give_the_same_student()
    {
        var ml = new MLContext(seed: 1);
        var labelled = data.Train.Take(200);
        var unlabelled = data.Train.Subset(Enumerable.Range(200, 400).ToArray()).WithoutLabels();
        var options = () => new MultiTeacherDistillationOptions { Trainer = { Epochs = 2, Seed = 3 }, ValidationFraction = 0.2 };

        // One view whose last 400 rows have key 0 (missing), against the labelled view plus UnlabeledData.
        var missingKeys = ml.Transforms.ScoreTeachers(data.TeacherPaths).Append(ml.MulticlassClassification.Trainers.MultiTeacherDistillation(options()))
            .Fit(labelled.Concat(unlabelled).ToDataView(ml)).LastTransformer;
        var separate = options();
        var scorer = ml.Transforms.ScoreTeachers(data.TeacherPaths).Fit(labelled.ToDataView(ml));
        separate.UnlabeledData = scorer.Transform(unlabelled.ToDataView(ml));
        var viaView = ml.MulticlassClassification.Trainers.MultiTeacherDistillation(separate).Fit(scorer.Transform(labelled.ToDataView(ml)));

        var test = data.Test.ToDataView(ml);
        Assert.Equal(Scores(missingKeys.Transform(test)), Scores(viaView.Transform(test)));
        // Validation came from the 200 labelled rows: 20 % of them, never an unlabelled row.
        Assert.All(viaView.TrainingHistory, e => Assert.NotNull(e.ValidationAccuracy));
        Assert.InRange(ml.MulticlassClassification.Evaluate(viaView.Transform(test)).MicroAccuracy, 0.3, 1.0);
    }

    [Fact]
    public void Alpha_one_without_teachers_is_the_student_trained_on_the_labels()
    {
        var ml = new MLContext(seed: 1);
        var train = data.Train.Take(300);
        var baseline = ml.MulticlassClassification.Trainers.MultiTeacherDistillation(new MultiTeacherDistillationOptions { Distillation = { Alpha = 1 }, Trainer = { Epochs = 2, Seed = 5 } })
            .Fit(train.ToDataView(ml));

        // The same network, seed and steps trained directly with cross-entropy: the very same weights.
        using var direct = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), train, seed: 5);
        NetworkTrainer.TrainSupervised(direct, train, new TrainerOptions { Epochs = 2, Seed = 5 });
        var expected = NetworkTrainer.PredictLogits(direct, data.Test);
        var actual = ml.Data.CreateEnumerable<LogitsRow>(baseline.Transform(data.Test.ToDataView(ml)), reuseRowObject: false).SelectMany(r => r.StudentLogits).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max() < 1e-4);

        // With α below 1 the teachers are needed, and the message says how to add them.
        var ex = Assert.Throws<ArgumentException>(() => ml.MulticlassClassification.Trainers
            .MultiTeacherDistillation(new MultiTeacherDistillationOptions { Distillation = { Alpha = 0.9 }, Trainer = { Epochs = 1 } })
            .Fit(train.ToDataView(ml)));
        Assert.Contains("ScoreTeachers", ex.Message);
    }

    private sealed class LogitsRow
    {
        public float[] StudentLogits { get; set; } = [];
    }
}
