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
using Mtkd.Training.Distillation.Methods;

namespace Mtkd.Cli.Demo;

/// <summary>
/// The whole flow once, on Fashion-MNIST: train teachers on the labelled images → export them to ONNX → score them
/// with ML.NET on a pool of views of every training image, labelled or not → distill a small student → train the
/// same network on the labels alone with as many images seen → evaluate both as ML.NET models on the test images.
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
        int labeledCount = Math.Min(settings.Labels ?? train.Count, train.Count);
        var labeled = train.Take(labeledCount);
        var unlabeled = labeledCount < train.Count ? train.Subset(Enumerable.Range(labeledCount, train.Count - labeledCount).ToArray()).WithoutLabels() : null;
        observer.Note(settings.Setting(train.Count, labeledCount));

        int teacherEpochs = settings.TeacherEpochsFor(labeledCount);
        var teacherSpec = NetworkPresets.Get(settings.TeacherArchitecture, settings.TeacherWidth);
        var teacherPaths = new List<string>();
        var teacherParameters = new List<long>();
        Timed($"Train {settings.TeacherCount} teachers on the {labeledCount:N0} labels ({teacherEpochs} epochs each)", progress =>
        {
            var options = new TrainerOptions
            {
                Epochs = teacherEpochs, Seed = settings.Seed * 1000, Schedule = ScheduleKind.Cosine,
                Augmentation = new AugmentationOptions { ShiftPixels = 2, HorizontalFlip = true },
            };
            var perTeacher = new SynchronousProgress<(int Teacher, TrainingProgress Progress)>(p =>
                progress.Report((p.Teacher + p.Progress.Fraction) / settings.TeacherCount));
            var teachers = settings.TeacherFraction >= 1
                ? TeacherGeneration.Seeds(labeled, teacherSpec, settings.TeacherCount, options, progress: perTeacher, cancellation: cancellation)
                : TeacherGeneration.Bagging(labeled, teacherSpec, settings.TeacherCount, settings.TeacherFraction, options, progress: perTeacher, cancellation: cancellation);
            foreach (var teacher in teachers)
            {
                using var network = teacher.Network;
                var path = Path.Combine(settings.OutputDirectory, $"teacher-{teacher.Index}.onnx");
                OnnxExporter.Export(network, path, new OnnxExportOptions { ClassNames = train.ClassNames });
                teacherPaths.Add(path);
                teacherParameters.Add(network.ParameterCount);
            }
            return 0;
        });

        var mlContext = new MLContext(settings.Seed);
        var testView = test.ToDataView(mlContext);
        var labeledView = labeled.ToDataView(mlContext);
        var unlabeledView = unlabeled?.ToDataView(mlContext);

        // The distilled student: a pool of views of every image (the image, shifted and flipped), which the teachers score once.
        var student = Timed("Score teachers and distill the student", progress =>
        {
            var options = StudentOptions(progress, settings.StudentEpochs);
            options.Teachers = teacherPaths.Select(TeacherModel.FromFile).ToArray();
            options.Views = settings.Views;
            options.UnlabeledData = unlabeledView;
            options.Distillation.Temperature = settings.Temperature;
            options.Distillation.Alpha = settings.Alpha;
            return mlContext.MulticlassClassification.Trainers.MultiTeacherDistillation(options).Fit(labeledView);
        });

        // The measure of distillation: the same network and seed, trained the standard way on the labelled images, with
        // fresh shifts and flips every batch and as many images seen as the distilled student.
        int baselineEpochs = (int)Math.Ceiling((double)settings.StudentEpochs * train.Count / labeledCount);
        var baseline = Timed("Train the same student on the labels only", progress =>
        {
            var options = StudentOptions(progress, baselineEpochs);
            options.Distillation.Method = new LabelsOnly();
            return mlContext.MulticlassClassification.Trainers.MultiTeacherDistillation(options).Fit(labeledView);
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
            TotalSeconds: total.Elapsed.TotalSeconds)
        {
            LabeledImages = labeledCount,
            Setting = settings.Setting(train.Count, labeledCount),
            Seed = settings.Seed,
            Configuration = settings.Configuration,
        };
        AtomicFile.WriteAllText(Path.Combine(settings.OutputDirectory, "report.json"), report.ToJson());
        return report;
    }

    // What the distilled and the label-trained student share: network, seed, schedule and augmentation.
    private MultiTeacherDistillationOptions StudentOptions(IProgress<double> progress, int epochs) => new()
    {
        Trainer =
        {
            Epochs = epochs, Seed = settings.Seed, Schedule = ScheduleKind.Cosine,
            Augmentation = new AugmentationOptions { ShiftPixels = 2, HorizontalFlip = true },
        },
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
