using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Mtkd.MLNet;
using Mtkd.MLNet.Distillation;
using Mtkd.MLNet.Teachers;
using Mtkd.Training.Networks;
using Mtkd.Training.Teachers;
using Xunit.Abstractions;

namespace Mtkd.MLNet.Tests.Teachers;

/// <summary>
/// Fitted ML.NET trainers as teachers, on scikit-learn's handwritten digits (64 features): LightGbm, FastTree
/// (one-versus-all) and SdcaMaximumEntropy converted to ONNX and scored on the features alone, then distilled into an MLP.
/// </summary>
public sealed class MlNetTeacherTests(ITestOutputHelper output)
{
    private sealed class DigitRow
    {
        [VectorType(64)] public float[] Features { get; set; } = [];
        public uint Digit { get; set; }
    }

    // The first 1,200 digits to train on, the other 597 to test; Label a key whose values are the digits in order.
    private static (MLContext Ml, IDataView Train, IDataView Test) Digits()
    {
        var (features, labels) = SklearnDigits.Load();
        var ml = new MLContext(seed: 1);
        IDataView View(IEnumerable<int> rows) => ml.Data.LoadFromEnumerable(rows.Select(i => new DigitRow { Features = features[i], Digit = (uint)labels[i] }).ToArray());
        var toKey = ml.Transforms.Conversion.MapValueToKey("Label", "Digit", keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Fit(View(Enumerable.Range(0, labels.Length)));
        return (ml, toKey.Transform(View(Enumerable.Range(0, 1200))), toKey.Transform(View(Enumerable.Range(1200, labels.Length - 1200))));
    }

    [Fact]
    public void A_converted_trainer_scores_its_own_probabilities_on_the_features_alone()
    {
        var (ml, train, test) = Digits();
        var lightGbm = ml.MulticlassClassification.Trainers.LightGbm().Fit(train);
        var teacher = TeacherModel.FromMlNet(ml, lightGbm, train.Schema);
        Assert.Contains("MulticlassPredictionTransformer", teacher.Name);

        var logits = ml.Transforms.ScoreTeachers(new Mtkd.MLNet.Scoring.TeacherScoringEstimator.Options { Teachers = [teacher] }).Fit(test).Transform(test)
            .GetColumn<float[]>("TeacherLogits").ToArray();
        var probabilities = lightGbm.Transform(test).GetColumn<float[]>("Score").ToArray();
        for (int i = 0; i < probabilities.Length; i++)
            for (int c = 0; c < 10; c++)
                Assert.True(Math.Abs(Math.Exp(logits[i][c]) - probabilities[i][c]) < 1e-4, $"row {i}, class {c}: {Math.Exp(logits[i][c])} vs {probabilities[i][c]}");
    }

    [Fact]
    public void Three_MLNet_trainers_teach_an_MLP_which_is_compared_with_the_MLP_trained_on_the_labels()
    {
        var (ml, train, test) = Digits();
        var teachers = new[]
        {
            ml.MulticlassClassification.Trainers.LightGbm().Fit(train),
            (ITransformer)ml.MulticlassClassification.Trainers.OneVersusAll(ml.BinaryClassification.Trainers.FastTree()).Fit(train),
            ml.MulticlassClassification.Trainers.SdcaMaximumEntropy().Fit(train),
        };
        var teacherAccuracy = teachers.Select(t => ml.MulticlassClassification.Evaluate(t.Transform(test)).MicroAccuracy).ToArray();
        MultiTeacherDistillationOptions Options(double alpha) => new()
        {
            Student = NetworkPresets.MlpPreset, StudentWidth = 32, Teachers = alpha == 1 ? [] : teachers.Select(t => TeacherModel.FromMlNet(ml, t, train.Schema)).ToArray(),
            Distillation = { Alpha = alpha, Temperature = 2 }, Trainer = { Epochs = 30, BatchSize = 64, LearningRate = 3e-3, Seed = 1 },
        };
        var student = ml.MulticlassClassification.Trainers.MultiTeacherDistillation(Options(0.5)).Fit(train);
        var baseline = ml.MulticlassClassification.Trainers.MultiTeacherDistillation(Options(1)).Fit(train);
        double studentAccuracy = ml.MulticlassClassification.Evaluate(student.Transform(test)).MicroAccuracy;
        double baselineAccuracy = ml.MulticlassClassification.Evaluate(baseline.Transform(test)).MicroAccuracy;
        output.WriteLine($"teachers {string.Join(", ", teacherAccuracy.Select(a => a.ToString("P1")))}; MLP distilled {studentAccuracy:P1}, on the labels {baselineAccuracy:P1}");

        Assert.InRange(studentAccuracy, 0.85, 1.0); // 1,200 digits, 30 epochs: it learned from teachers it could only read as ONNX
        Assert.InRange(baselineAccuracy, 0.85, 1.0);
        // The MLP takes [batch, 64] in ONNX, as a tabular model does.
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(student.OnnxModel);
        Assert.Equal([-1, 64], session.InputMetadata["input"].Dimensions);
    }

    [Fact]
    public void A_binary_trainer_teaches_with_its_calibrated_probability()
    {
        var (ml, train, _) = Digits();
        var isZero = ml.Transforms.CustomMapping((DigitRow row, ZeroFlag flag) => flag.Label = row.Digit == 0, "zero");
        var binary = ml.Transforms.DropColumns("Label").Append(isZero).Fit(train).Transform(train);
        var fastTree = ml.BinaryClassification.Trainers.FastTree().Fit(binary);
        var teacher = TeacherModel.FromMlNet(ml, fastTree, binary.Schema);

        var logits = ml.Transforms.ScoreTeachers(new Mtkd.MLNet.Scoring.TeacherScoringEstimator.Options { Teachers = [teacher] }).Fit(binary).Transform(binary)
            .GetColumn<float[]>("TeacherLogits").ToArray();
        var probability = fastTree.Transform(binary).GetColumn<float>("Probability").ToArray();
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(0f, logits[i][0]); // one output, read as [0, log-odds]
            Assert.True(Math.Abs(1 / (1 + Math.Exp(-logits[i][1])) - probability[i]) < 1e-5, $"row {i}: σ({logits[i][1]}) vs {probability[i]}");
        }
    }

    [Fact]
    public void A_model_MLNet_cannot_convert_is_refused_naming_it()
    {
        var (ml, train, _) = Digits();
        var custom = ml.Transforms.CustomMapping((DigitRow row, DigitRow copy) => copy.Features = row.Features, "copy")
            .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy()).Fit(train);

        var error = Assert.Throws<NotSupportedException>(() => TeacherModel.FromMlNet(ml, custom, train.Schema));

        Assert.Contains("CustomMappingTransformer", error.Message);
        Assert.Contains("cannot convert", error.Message);
    }

    private sealed class ZeroFlag
    {
        public bool Label { get; set; }
    }
}
