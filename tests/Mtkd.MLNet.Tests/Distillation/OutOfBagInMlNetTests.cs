using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet;
using Mtkd.MLNet.Data;
using Mtkd.MLNet.Distillation;
using Mtkd.MLNet.SoftLabels;
using Mtkd.Training.Distillation;
using Mtkd.Training.Teachers;

namespace Mtkd.MLNet.Tests.Distillation;

/// <summary>Out-of-bag soft labels through ML.NET: the TeacherInBag column does what the engine's adjustment does by hand.</summary>
[Collection(TinyFashionMnistCollection.Name)]
public sealed class OutOfBagInMlNetTests(TinyFashionMnist data)
{
    private sealed class Row
    {
        public float[] Features { get; set; } = [];
        public uint Label { get; set; }
        public float[] TeacherLogits { get; set; } = [];
        public float[] TeacherInBag { get; set; } = [];
    }

    private static float[] Scores(IDataView scored) => scored.GetColumn<float[]>("Score").SelectMany(r => r).ToArray();

    [Fact]
    public void The_in_bag_column_gives_the_student_of_hand_adjusted_logits()
    {
        var ml = new MLContext(seed: 1);
        var train = data.Train.Take(240);
        var scored = ml.Transforms.ScoreTeachers(data.TeacherPaths).Fit(train.ToDataView(ml)).Transform(train.ToDataView(ml));
        var logits = scored.GetColumn<float[]>("TeacherLogits").ToArray();
        int k = data.TeacherPaths.Count, c = train.ClassCount, pixels = train.Channels * train.Height * train.Width;
        // A made-up bagging (this test's own): teacher t trained on the rows where (row + t) % 3 != 0.
        var inBag = Enumerable.Range(0, train.Count).SelectMany(i => Enumerable.Range(0, k).Select(t => (i + t) % 3 != 0)).ToArray();
        var adjusted = TeacherLogitAdjustment.OutOfBag(logits.SelectMany(r => r).ToArray(), inBag, k, c, temperature: 4);

        IDataView View(Func<int, float[]> teacherLogits) => ml.Data.LoadFromEnumerable(Enumerable.Range(0, train.Count).Select(i => new Row
        {
            Features = train.ReadImage(i),
            Label = (uint)train.Labels[i] + 1,
            TeacherLogits = teacherLogits(i),
            TeacherInBag = Enumerable.Range(0, k).Select(t => inBag[i * k + t] ? 1f : 0f).ToArray(),
        }), Schema(k * c, k, pixels, c));

        MultiTeacherDistillationOptions Options(bool outOfBag) => new()
        {
            Trainer = { Epochs = 2, Seed = 4 }, ValidationFraction = 0.25, Distillation = { Temperature = 4, OutOfBagTeachers = outOfBag },
        };
        var test = data.Test.ToDataView(ml);
        var viaColumn = ml.MulticlassClassification.Trainers.MultiTeacherDistillation(Options(true)).Fit(View(i => logits[i]));
        var byHand = ml.MulticlassClassification.Trainers.MultiTeacherDistillation(Options(false)).Fit(View(i => adjusted.AsSpan(i * k * c, k * c).ToArray()));
        var plain = ml.MulticlassClassification.Trainers.MultiTeacherDistillation(Options(false)).Fit(View(i => logits[i]));
        Assert.Equal(Scores(byHand.Transform(test)), Scores(viaColumn.Transform(test)));
        Assert.NotEqual(Scores(plain.Transform(test)), Scores(viaColumn.Transform(test)));

        // Without the column, the trainer says which column it needs and where it comes from.
        var error = Assert.Throws<ArgumentException>(() => ml.MulticlassClassification.Trainers.MultiTeacherDistillation(Options(true)).Fit(scored));
        Assert.Contains("'TeacherInBag'", error.Message);
        Assert.Throws<ArgumentException>(() => ml.MulticlassClassification.Trainers.MultiTeacherDistillation(
            new MultiTeacherDistillationOptions
            {
                Teachers = data.TeacherPaths.Select(Mtkd.Training.Teachers.TeacherModel.FromFile).ToArray(), ConsistentTeaching = true,
                Distillation = { OutOfBagTeachers = true },
            }));
    }

    [Fact]
    public void LoadSoftLabels_gives_the_in_bag_column_only_when_every_teacher_s_rows_are_known()
    {
        var directory = Directory.CreateTempSubdirectory("mtkd-oob-").FullName;
        try
        {
            var ml = new MLContext(seed: 1);
            var rows = Mtkd.Training.SoftLabels.TrainingRowSet.Of([10, 12], rowCount: 20);
            var known = new Mtkd.Training.SoftLabels.SoftLabelHeader(2, 2, ["a", "b"], TeacherTrainingRows: [rows, Mtkd.Training.SoftLabels.TrainingRowSet.Of([11], 20)]);
            var path = Path.Combine(directory, "known.parquet");
            Mtkd.Training.SoftLabels.SoftLabelWriter.Write(path, new(known, [10, 11, 12], [0, 1, 0], new float[12]));
            Assert.Equal(new[] { new[] { 1f, 0f }, [0f, 1f], [1f, 0f] }, ml.Data.LoadSoftLabels(path).GetColumn<float[]>("TeacherInBag").ToArray());

            var partial = known with { TeacherTrainingRows = [rows, null] };
            Mtkd.Training.SoftLabels.SoftLabelWriter.Write(path, new(partial, [10, 11, 12], [0, 1, 0], new float[12]));
            Assert.Null(ml.Data.LoadSoftLabels(path).Schema.GetColumnOrNull("TeacherInBag"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static SchemaDefinition Schema(int logits, int teachers, int pixels, int classes)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, pixels);
        schema[nameof(Row.Label)].ColumnType = new KeyDataViewType(typeof(uint), classes);
        schema[nameof(Row.TeacherLogits)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, logits);
        schema[nameof(Row.TeacherInBag)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, teachers);
        return schema;
    }
}
