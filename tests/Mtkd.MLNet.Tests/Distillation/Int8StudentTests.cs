using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet.Data;
using Mtkd.MLNet.Distillation;
using Mtkd.Training.Onnx;

namespace Mtkd.MLNet.Tests.Distillation;

/// <summary>
/// The int8 student in ML.NET: <c>ToInt8</c> keeps the columns and nearly every prediction, <c>SaveOnnx(path, quantize:)</c>
/// writes the int8 model, and the saved zip loads in an app without Mtkd and predicts what the int8 transformer does.
/// </summary>
[Collection(TinyFashionMnistCollection.Name)]
public sealed class Int8StudentTests(TinyFashionMnist data)
{
    private (MLContext Context, StudentTransformer Student) Distill()
    {
        var ml = new MLContext(seed: 1);
        var student = ml.Transforms.ScoreTeachers(data.TeacherPaths)
            .Append(ml.MulticlassClassification.Trainers.MultiTeacherDistillation(new() { Trainer = { Epochs = 2 } }))
            .Fit(data.Train.ToDataView(ml)).LastTransformer;
        return (ml, student);
    }

    [Fact]
    public void The_int8_student_predicts_like_the_float_one_and_its_zip_loads_without_Mtkd()
    {
        var (ml, student) = Distill();
        var int8 = student.ToInt8(data.Train.ToDataView(ml), new QuantizationOptions { CalibrationImages = 200 });
        Assert.True(int8.IsInt8);
        Assert.False(student.IsInt8);
        Assert.True(int8.OnnxModel.Length < 0.35 * student.OnnxModel.Length, $"{int8.OnnxModel.Length:N0} bytes against {student.OnnxModel.Length:N0}");

        var test = data.Test.ToDataView(ml);
        var floatLabels = student.Transform(test).GetColumn<uint>("PredictedLabel").ToArray();
        var int8Labels = int8.Transform(test).GetColumn<uint>("PredictedLabel").ToArray();
        double agreement = floatLabels.Zip(int8Labels).Count(p => p.First == p.Second) / (double)floatLabels.Length;
        Assert.True(agreement >= 0.95, $"int8 and float agree on {agreement:P1} of the test images");

        var images = data.Test.Take(20);
        var lines = ZipConsumerApp.Predict(ml, int8, test.Schema, images, data.Directory);
        var scores = int8.Transform(images.ToDataView(ml)).GetColumn<float[]>("Score").ToArray();
        for (int i = 0; i < 20; i++)
        {
            var theirs = lines[i].Skip(1).Select(p => float.Parse(p, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.True(scores[i].Zip(theirs, (a, b) => Math.Abs(a - b)).Max() < 1e-6);
        }

        string path = Path.Combine(data.Directory, $"student-{Guid.NewGuid():N}.int8.onnx");
        student.SaveOnnx(path, quantize: data.Train.ToDataView(ml), new QuantizationOptions { CalibrationImages = 200 });
        Assert.True(OnnxQuantizer.IsQuantized(File.ReadAllBytes(path)));
        Assert.Equal(int8.OnnxModel, File.ReadAllBytes(path)); // calibration is deterministic
    }

    [Fact]
    public void An_empty_calibration_view_or_a_second_quantization_is_refused()
    {
        var (ml, student) = Distill();
        var empty = ml.Data.SkipRows(data.Train.ToDataView(ml), data.Train.Count);
        Assert.Contains("no rows", Assert.Throws<ArgumentException>(() => student.ToInt8(empty)).Message);
        var int8 = student.ToInt8(ml.Data.TakeRows(data.Train.ToDataView(ml), 50));
        Assert.Contains("already int8", Assert.Throws<InvalidOperationException>(() => int8.ToInt8(data.Train.ToDataView(ml))).Message);
    }
}
