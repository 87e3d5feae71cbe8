using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using Mtkd.MLNet;
using Mtkd.MLNet.Data;
using Mtkd.MLNet.Distillation;
using Mtkd.Training.Engine;
using SkiaSharp;

namespace Mtkd.MLNet.Tests.Distillation;

/// <summary>The student as an ordinary ML.NET model: class names on Score, PredictionEngine, image pipelines in front, GPU options.</summary>
[Collection(TinyFashionMnistCollection.Name)]
public sealed class StudentInPipelinesTests(TinyFashionMnist data)
{
    private sealed class ClassName
    {
        public string Label { get; set; } = "";
    }

    private sealed class ImageFile
    {
        public string Path { get; set; } = "";
        public string Label { get; set; } = "";
    }

    private StudentTransformer Student(MLContext ml, int? gpuDeviceId = null) =>
        ml.Transforms.ScoreTeachers(data.TeacherPaths)
            .Append(ml.MulticlassClassification.Trainers.MultiTeacherDistillation(new() { Trainer = { Epochs = 1 }, GpuDeviceId = gpuDeviceId }))
            .Fit(data.Train.ToDataView(ml)).LastTransformer;

    [Fact]
    public void Score_carries_the_class_names_and_PredictionEngine_agrees_with_Transform()
    {
        var ml = new MLContext(seed: 1);
        var student = Student(ml);
        var test = data.Test.ToDataView(ml);
        var scored = student.Transform(test);
        VBuffer<ReadOnlyMemory<char>> slotNames = default;
        scored.Schema["Score"].GetSlotNames(ref slotNames);
        Assert.Equal(data.Test.ClassNames, slotNames.DenseValues().Select(s => s.ToString()));

        var engine = ml.Model.CreatePredictionEngine<FashionImageRow, ClassPrediction>(student); // no label needed to predict
        var expected = scored.GetColumn<float[]>("Score").Take(20).ToArray();
        var expectedLabels = scored.GetColumn<uint>("PredictedLabel").Take(20).ToArray();
        for (int i = 0; i < 20; i++)
        {
            var prediction = engine.Predict(new FashionImageRow { Features = data.Test.ReadImage(i) });
            Assert.Equal(expectedLabels[i], prediction.PredictedLabel);
            Assert.True(expected[i].Zip(prediction.Score, (a, b) => Math.Abs(a - b)).Max() < 1e-6);
        }
    }

    [Fact]
    public void Works_behind_LoadImages_ResizeImages_ExtractPixels_and_evaluates()
    {
        var ml = new MLContext(seed: 1);
        var student = Student(ml);
        // 40 test images written as 28×28 grey PNG files, as users' image folders hold them.
        var folder = Path.Combine(data.Directory, $"png-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var files = new List<ImageFile>();
        for (int i = 0; i < 40; i++)
        {
            using var bitmap = new SKBitmap(28, 28, SKColorType.Gray8, SKAlphaType.Opaque);
            for (int y = 0; y < 28; y++)
                for (int x = 0; x < 28; x++)
                {
                    byte v = (byte)Math.Round(data.Test.ReadImage(i)[y * 28 + x] * 255);
                    bitmap.SetPixel(x, y, new SKColor(v, v, v));
                }
            var path = Path.Combine(folder, $"{i}.png");
            using (var stream = File.Create(path))
                bitmap.Encode(stream, SKEncodedImageFormat.Png, 100);
            files.Add(new ImageFile { Path = path, Label = data.Test.ClassNames[data.Test.Labels[i]] });
        }
        var classOrder = ml.Data.LoadFromEnumerable(data.Test.ClassNames.Select(n => new ClassName { Label = n }));
        var images = ml.Data.LoadFromEnumerable(files);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", keyData: classOrder)
            .Append(ml.Transforms.LoadImages("Image", imageFolder: "", inputColumnName: nameof(ImageFile.Path)))
            .Append(ml.Transforms.ResizeImages("Image", 28, 28))
            .Append(ml.Transforms.ExtractPixels("Features", "Image", colorsToExtract: ImagePixelExtractingEstimator.ColorBits.Red, scaleImage: 1f / 255));
        var scored = student.Transform(pipeline.Fit(images).Transform(images));
        var metrics = ml.MulticlassClassification.Evaluate(scored);

        var direct = student.Transform(data.Test.Take(40).ToDataView(ml));
        Assert.Equal(direct.GetColumn<uint>("PredictedLabel"), scored.GetColumn<uint>("PredictedLabel"));
        Assert.Equal(ml.MulticlassClassification.Evaluate(direct).MicroAccuracy, metrics.MicroAccuracy, 10);
    }

    [Fact]
    public void A_gpu_request_of_the_mlcontext_falls_back_to_the_cpu_when_it_allows()
    {
        var ml = new MLContext(seed: 1) { GpuDeviceId = 0 };
        var refused = Assert.Throws<InvalidOperationException>(() => Student(ml)); // MLContext.FallbackToCpu is false unless set
        Assert.Contains("device 0 was requested", refused.Message);
        ml.FallbackToCpu = true;
        var messages = new List<string>();
        var onGpu = ml.Transforms.ScoreTeachers(data.TeacherPaths)
            .Append(ml.MulticlassClassification.Trainers.MultiTeacherDistillation(new()
            {
                Trainer = { Epochs = 1 }, Progress = new SynchronousProgress<TrainingProgress>(p => { if (p.Message is { } m) messages.Add(m); }),
            }))
            .Fit(data.Train.ToDataView(ml)).LastTransformer;
        Assert.StartsWith("CPU (CUDA device 0 unavailable", onGpu.ExecutionProvider); // the student
        Assert.Contains(messages, m => m.StartsWith("Device cuda:0 was requested but", StringComparison.Ordinal)); // the training
        var onCpu = Student(new MLContext(seed: 1));
        Assert.Equal("CPU", onCpu.ExecutionProvider);
        var test = data.Test.ToDataView(ml);
        Assert.Equal(onCpu.Transform(test).GetColumn<uint>("PredictedLabel"), onGpu.Transform(test).GetColumn<uint>("PredictedLabel"));
    }
}

/// <summary>A saved student loads in an app that references only Microsoft.ML, Microsoft.ML.OnnxTransformer and ONNX Runtime.</summary>
[Collection(TinyFashionMnistCollection.Name)]
public sealed class SavedStudentConsumerTests(TinyFashionMnist data)
{
    [Fact]
    public void An_app_without_Mtkd_loads_the_zip_and_predicts_the_same()
    {
        var ml = new MLContext(seed: 1);
        var student = ml.Transforms.ScoreTeachers(data.TeacherPaths)
            .Append(ml.MulticlassClassification.Trainers.MultiTeacherDistillation(new() { Trainer = { Epochs = 1 } }))
            .Fit(data.Train.ToDataView(ml)).LastTransformer;
        var test = data.Test.Take(25);
        var lines = ZipConsumerApp.Predict(ml, student, test.ToDataView(ml).Schema, test, data.Directory);
        var scored = student.Transform(test.ToDataView(ml));
        var labels = scored.GetColumn<uint>("PredictedLabel").ToArray();
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        for (int i = 0; i < 25; i++)
        {
            var parts = lines[i];
            Assert.Equal(labels[i], uint.Parse(parts[0]));
            var theirs = parts.Skip(1).Select(p => float.Parse(p, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.True(scores[i].Zip(theirs, (a, b) => Math.Abs(a - b)).Max() < 1e-6);
        }
    }
}
