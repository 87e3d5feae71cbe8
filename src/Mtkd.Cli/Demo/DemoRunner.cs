using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet;
using Mtkd.MLNet.Data;
using Mtkd.MLNet.Distillation;
using Mtkd.MLNet.Scoring;
using Mtkd.Training;
using Mtkd.Training.Data;
using Mtkd.Training.Fusion;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Engine;
using Mtkd.Training.Teachers;

namespace Mtkd.Cli.Demo;

/// <summary>
/// The whole flow once, on Fashion-MNIST: train teachers on random subsets → export them to ONNX → score them with
/// ML.NET into soft labels → distill a small student → evaluate it as an ML.NET model on the test images.
/// </summary>
public sealed class DemoRunner(DemoSettings settings, IStageObserver observer)
{
    /// <summary>Creates a runner that reports to the given observer.</summary>
    public delegate DemoRunner Factory(IStageObserver observer);

    private readonly Dictionary<string, double> stageSeconds = [];

    public DemoReport Run(CancellationToken cancellation = default)
    {
        var total = Stopwatch.StartNew();
        TorchRuntime.EnsureLoaded();
        Directory.CreateDirectory(settings.OutputDirectory);

        var (train, test) = Timed("Load Fashion-MNIST", _ =>
        {
            var fullTrain = FashionMnist.Load(DataSplit.Train, settings.DataDirectory);
            var fullTest = FashionMnist.Load(DataSplit.Test, settings.DataDirectory);
            return (settings.TrainLimit is int n ? fullTrain.Take(n) : fullTrain,
                    settings.TestLimit is int m ? fullTest.Take(m) : fullTest);
        });

        var teacherPaths = new List<string>();
        var teacherParameters = new List<long>();
        for (int i = 0; i < settings.TeacherCount; i++)
        {
            int teacherSeed = settings.Seed * 1000 + i;
            Timed($"Train teacher {i + 1}/{settings.TeacherCount}", progress =>
            {
                var subset = train.RandomSubset(settings.TeacherFraction, teacherSeed);
                using var teacher = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.TeacherCnn), subset, teacherSeed);
                NetworkTrainer.TrainSupervised(teacher, subset,
                    new TrainerOptions { Epochs = settings.TeacherEpochs, Seed = teacherSeed },
                    new Progress<TrainingProgress>(p => progress.Report(p.Fraction)), cancellation);
                var path = Path.Combine(settings.OutputDirectory, $"teacher-{i}.onnx");
                OnnxExporter.Export(teacher, path, new OnnxExportOptions { ClassNames = train.ClassNames });
                teacherPaths.Add(path);
                teacherParameters.Add(teacher.ParameterCount);
                return 0;
            });
        }

        var mlContext = new MLContext(settings.Seed);
        var testView = test.ToDataView(mlContext);
        var trainView = train.ToDataView(mlContext);

        // Both students train on one pool of views of each image (the image, shifted and flipped), which the teachers
        // score once: the job draws it from the same seed for both.
        var student = Timed("Score teachers and distill the student", progress =>
        {
            var options = StudentOptions(progress);
            options.Teachers = teacherPaths.Select(TeacherModel.FromFile).ToArray();
            options.Distillation.Temperature = settings.Temperature;
            options.Distillation.Alpha = settings.Alpha;
            return mlContext.MulticlassClassification.Trainers.MultiTeacherDistillation(options).Fit(trainView);
        });

        // The measure of distillation: the same network, seed, views and steps, trained on the labels alone (α = 1).
        var baseline = Timed("Train the same student on the labels only", progress =>
        {
            var options = StudentOptions(progress);
            options.Distillation.Alpha = 1;
            return mlContext.MulticlassClassification.Trainers.MultiTeacherDistillation(options).Fit(trainView);
        });

        var (teacherAccuracies, ensembleAccuracy) = Timed("Score teachers on the test set", _ =>
        {
            using var scorer = mlContext.Transforms.ScoreTeachers(teacherPaths).Fit(testView);
            var logits = ReadTeacherLogits(scorer.Transform(testView));
            var perTeacher = Enumerable.Range(0, settings.TeacherCount)
                .Select(t => SoftLabelAccuracy.Teacher(logits, test.Labels, settings.TeacherCount, test.ClassCount, t)).ToArray();
            return (perTeacher, SoftLabelAccuracy.MeanProbability(logits, test.Labels, settings.TeacherCount, test.ClassCount));
        });

        var (studentAccuracy, baselineAccuracy) = Timed("Evaluate both students with ML.NET", _ =>
        {
            var metrics = mlContext.MulticlassClassification.Evaluate(student.Transform(testView));
            student.SaveOnnx(Path.Combine(settings.OutputDirectory, "student.onnx"));
            AtomicFile.Write(Path.Combine(settings.OutputDirectory, "student.zip"), s => mlContext.Model.Save(student, testView.Schema, s));
            return (metrics.MicroAccuracy, mlContext.MulticlassClassification.Evaluate(baseline.Transform(testView)).MicroAccuracy);
        });

        var report = new DemoReport(
            Teachers: teacherAccuracies.Select((a, i) => new ModelFigures($"teacher-{i}", a, teacherParameters[i])).ToArray(),
            Ensemble: new EnsembleFigures("mean probability", ensembleAccuracy, teacherParameters.Sum()),
            Student: new ModelFigures("student", studentAccuracy, student.ParameterCount),
            Baseline: new ModelFigures("student trained on the labels", baselineAccuracy, baseline.ParameterCount),
            TrainImages: train.Count,
            TestImages: test.Count,
            StageSeconds: stageSeconds,
            TotalSeconds: total.Elapsed.TotalSeconds);
        AtomicFile.WriteAllText(Path.Combine(settings.OutputDirectory, "report.json"), report.ToJson());
        return report;
    }

    // What the distilled and the label-trained student share: network, the pool of views, epochs' worth of images, seed.
    // With one view the students see the images as they are.
    private MultiTeacherDistillationOptions StudentOptions(IProgress<double> progress) => new()
    {
        Trainer =
        {
            Epochs = settings.StudentEpochs, Seed = settings.Seed,
            Augmentation = settings.Views > 1 ? new AugmentationOptions { ShiftPixels = 2, HorizontalFlip = true } : new AugmentationOptions(),
        },
        Views = settings.Views,
        Progress = new Progress<TrainingProgress>(p => progress.Report(p.Fraction)),
    };

    private static float[] ReadTeacherLogits(IDataView scored)
    {
        var column = scored.Schema[TeacherColumns.Logits];
        var values = new List<float>();
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> row = default;
        while (cursor.MoveNext())
        {
            getter(ref row);
            values.AddRange(row.DenseValues());
        }
        return values.ToArray();
    }

    private T Timed<T>(string stage, Func<IProgress<double>, T> work)
    {
        var clock = Stopwatch.StartNew();
        var progress = observer.Begin(stage);
        var result = work(progress);
        progress.Report(1);
        stageSeconds[stage] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        return result;
    }
}
