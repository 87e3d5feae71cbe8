using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Mtkd.MLNet;
using Mtkd.MLNet.Data;
using Mtkd.MLNet.Distillation;
using Mtkd.Training.Data;
using Mtkd.Training.Engine;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;

namespace Mtkd.MLNet.Tests.Distillation;

/// <summary>
/// Real Fashion-MNIST images as a yes/no problem (is it footwear: sandal, sneaker or ankle boot?) and two binary teachers
/// trained on it for one epoch: one exported with a single logit output, one with two class outputs.
/// </summary>
public sealed class FootwearData : IDisposable
{
    private static readonly int[] Footwear = [5, 7, 9];

    public FootwearData()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("mtkd-binary-").FullName;
        Train = AsFootwear(FashionMnist.Load(DataSplit.Train).Take(600));
        Test = AsFootwear(FashionMnist.Load(DataSplit.Test).Take(300));
        // One teacher with one logit output, one with two class scores.
        TeacherPaths = Enumerable.Range(0, 2).Select(i => TrainingFixtures.OneEpochTeacher(Train, i, Path.Combine(Directory, $"binary-teacher-{i}.onnx"),
            new OnnxExportOptions { BinaryLogit = i == 0 })).ToArray();
    }

    public string Directory { get; }
    public ImageDataset Train { get; }
    public ImageDataset Test { get; }
    public IReadOnlyList<string> TeacherPaths { get; }

    /// <summary>Features and a Boolean Label (true: footwear), as an ML.NET user's binary data.</summary>
    public static IDataView ToBooleanView(MLContext ml, ImageDataset data)
    {
        var rows = Enumerable.Range(0, data.Count).Select(i => new BooleanRow { Features = data.ReadImage(i), Label = data.Labels[i] == 1 });
        var schema = SchemaDefinition.Create(typeof(BooleanRow));
        schema[nameof(BooleanRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, data.ImageSize);
        return ml.Data.LoadFromEnumerable(rows.ToArray(), schema);
    }

    private static ImageDataset AsFootwear(ImageDataset data) =>
        data.WithLabels(data.Labels.Select(l => Footwear.Contains(l) ? 1 : 0).ToArray()).WithClassNames(["other", "footwear"]);

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    private sealed class BooleanRow
    {
        public float[] Features { get; set; } = [];
        public bool Label { get; set; }
    }
}

public sealed class BinaryDistillationTests(FootwearData data) : IClassFixture<FootwearData>
{
    private (MLContext Context, StudentTransformer Student, IDataView Test) Distill(Action<MultiTeacherDistillationOptions>? configure = null)
    {
        var ml = new MLContext(seed: 1);
        var options = new MultiTeacherDistillationOptions { Trainer = { Epochs = 5 } };
        configure?.Invoke(options);
        var student = ml.Transforms.ScoreTeachers(data.TeacherPaths)
            .Append(ml.BinaryClassification.Trainers.MultiTeacherDistillation(options))
            .Fit(FootwearData.ToBooleanView(ml, data.Train)).LastTransformer;
        return (ml, student, FootwearData.ToBooleanView(ml, data.Test));
    }

    private static (float[] Score, float[] Probability, bool[] Predicted) Outputs(IDataView scored) =>
        (scored.GetColumn<float>("Score").ToArray(), scored.GetColumn<float>("Probability").ToArray(), scored.GetColumn<bool>("PredictedLabel").ToArray());

    [Fact]
    public void The_binary_student_gives_MLNets_binary_columns_and_evaluates()
    {
        var (ml, student, test) = Distill();
        var scored = student.Transform(test);

        Assert.Equal(NumberDataViewType.Single, scored.Schema["Score"].Type);
        Assert.Equal(NumberDataViewType.Single, scored.Schema["Probability"].Type);
        Assert.Equal(BooleanDataViewType.Instance, scored.Schema["PredictedLabel"].Type);
        var (score, probability, predicted) = Outputs(scored);
        for (int i = 0; i < score.Length; i++)
        {
            Assert.True(Math.Abs(1 / (1 + Math.Exp(-score[i])) - probability[i]) < 1e-6); // the logit's sigmoid
            Assert.Equal(score[i] >= 0, predicted[i]);
        }
        var metrics = ml.BinaryClassification.Evaluate(scored);
        Assert.InRange(metrics.AreaUnderRocCurve, 0.9, 1.0); // footwear is easy: five epochs on 600 images
        Assert.InRange(metrics.F1Score, 0.6, 1.0);
        Assert.Equal(0.5f, student.Threshold);
    }

    [Fact]
    public void The_standalone_ONNX_student_has_one_logit_output_equal_to_Score()
    {
        var (_, student, test) = Distill();
        using var session = new InferenceSession(student.OnnxModel);
        Assert.Equal([1], session.OutputMetadata["logits"].Dimensions.Skip(1));
        var pixels = data.Test.Take(8).ReadAllPixels();
        using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(pixels, [8, 1, 28, 28])) });
        var logits = results.First(r => r.Name == "logits").AsTensor<float>().ToArray();
        var probabilities = results.First(r => r.Name == "probabilities").AsTensor<float>().ToArray();
        var score = student.Transform(test).GetColumn<float>("Score").Take(8).ToArray();
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(score[i], logits[i], 4);
            Assert.True(Math.Abs(1 / (1 + Math.Exp(-logits[i])) - probabilities[i]) < 1e-6);
        }
    }

    [Fact]
    public void A_threshold_on_Probability_changes_PredictedLabel_and_is_saved()
    {
        var (ml, student, test) = Distill();
        var strict = student.WithThreshold(0.9f);
        var (score, probability, predicted) = Outputs(strict.Transform(test));
        Assert.Equal(Outputs(student.Transform(test)).Score, score); // scores unchanged
        Assert.Equal(probability.Select(p => p >= 0.9f), predicted);
        Assert.Contains(probability, p => p is >= 0.5f and < 0.9f); // the threshold mattered for some image
        Assert.Equal(0.9f, strict.Threshold);

        var path = Path.Combine(data.Directory, $"binary-{Guid.NewGuid():N}.zip");
        ml.Model.Save(strict, test.Schema, path);
        Assert.Equal(predicted, new MLContext().Model.Load(path, out _).Transform(test).GetColumn<bool>("PredictedLabel"));
        Assert.Throws<ArgumentOutOfRangeException>(() => student.WithThreshold(1f));
    }

    [Fact]
    public void An_app_without_Mtkd_loads_the_binary_zip_and_predicts_the_same()
    {
        var (ml, student, test) = Distill();
        var images = data.Test.Take(25);
        var lines = ZipConsumerApp.Predict(ml, student, test.Schema, images, data.Directory);
        var (score, probability, predicted) = Outputs(student.Transform(FootwearData.ToBooleanView(ml, images)));
        for (int i = 0; i < 25; i++)
        {
            var parts = lines[i];
            Assert.Equal(predicted[i], bool.Parse(parts[0]));
            Assert.Equal(score[i], float.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), 6);
            Assert.Equal(probability[i], float.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture), 6);
        }
    }

    [Fact]
    public void The_int8_binary_student_keeps_its_threshold_and_its_zip_loads_without_Mtkd()
    {
        var (ml, student, test) = Distill();
        var int8 = student.WithThreshold(0.7f).ToInt8(FootwearData.ToBooleanView(ml, data.Train));
        Assert.True(int8.IsInt8);
        Assert.Equal(0.7f, int8.Threshold);
        var (score, probability, predicted) = Outputs(int8.Transform(test));
        Assert.Equal(probability.Select(p => p >= 0.7f), predicted);
        var floatProbability = Outputs(student.Transform(test)).Probability;
        double gap = floatProbability.Zip(probability).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(gap < 0.1, $"max |Δ probability| {gap:F3} between the float and the int8 student");
        Assert.True(ml.BinaryClassification.Evaluate(int8.Transform(test)).AreaUnderRocCurve > 0.9);

        var images = data.Test.Take(10);
        var lines = ZipConsumerApp.Predict(ml, int8, test.Schema, images, data.Directory);
        var mine = Outputs(int8.Transform(FootwearData.ToBooleanView(ml, images)));
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(mine.Predicted[i], bool.Parse(lines[i][0]));
            Assert.Equal(mine.Score[i], float.Parse(lines[i][1], System.Globalization.CultureInfo.InvariantCulture), 6);
        }
    }

    [Fact]
    public void The_label_types_are_refused_by_name_for_the_wrong_trainer()
    {
        var ml = new MLContext(seed: 1);
        var keyed = ml.Transforms.ScoreTeachers(data.TeacherPaths).Fit(data.Train.ToDataView(ml)).Transform(data.Train.ToDataView(ml));
        var boolean = ml.Transforms.ScoreTeachers(data.TeacherPaths).Fit(FootwearData.ToBooleanView(ml, data.Train))
            .Transform(FootwearData.ToBooleanView(ml, data.Train));

        var keyToBinary = Assert.Throws<ArgumentException>(() => ml.BinaryClassification.Trainers.MultiTeacherDistillation().Fit(keyed));
        Assert.Contains("'Label'", keyToBinary.Message);
        Assert.Contains("Boolean", keyToBinary.Message);
        Assert.Contains("MulticlassClassification", keyToBinary.Message);
        var booleanToMulticlass = Assert.Throws<ArgumentException>(() => ml.MulticlassClassification.Trainers.MultiTeacherDistillation().Fit(boolean));
        Assert.Contains("'Label'", booleanToMulticlass.Message);
        Assert.Contains("BinaryClassification", booleanToMulticlass.Message);
        // The pipeline check, before any data is read.
        Assert.Throws<ArgumentException>(() => ml.BinaryClassification.Trainers.MultiTeacherDistillation().GetOutputSchema(Mtkd.MLNet.Internal.SchemaShapes.Of(keyed.Schema)));
    }

    [Fact]
    public void A_teacher_of_ten_classes_is_refused_for_yes_no_data_naming_it()
    {
        var ml = new MLContext(seed: 1);
        using var tenClasses = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.TeacherCnn), FashionMnist.Load(DataSplit.Test).Take(20), seed: 1);
        var path = Path.Combine(data.Directory, "ten-classes.onnx");
        OnnxExporter.Export(tenClasses, path);
        var trainer = ml.BinaryClassification.Trainers.MultiTeacherDistillation(new() { Teachers = [path], Trainer = { Epochs = 1 } });

        var error = Assert.Throws<InvalidDataException>(() => trainer.Fit(FootwearData.ToBooleanView(ml, data.Train)));

        Assert.Contains(path, error.Message);
        Assert.Contains("gives 10 scores", error.Message);
        Assert.Contains("one logit or sigmoid output", error.Message);
    }
}
