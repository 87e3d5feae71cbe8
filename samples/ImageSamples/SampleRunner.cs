using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.Training.Distillation;
using Mtkd.MLNet;
using Mtkd.MLNet.Data;
using Mtkd.MLNet.Distillation;
using Mtkd.Training.Data;
using Mtkd.Training.Fusion;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training;
using Mtkd.Shared;
using Mtkd.Training.Engine;

namespace Mtkd.Samples.Images;

/// <summary>
/// One sample run, as an ML.NET user would write it: image folder → LoadImages/ResizeImages/ExtractPixels → teachers
/// (trained with Mtkd as one-logit binary classifiers, or given) → ScoreTeachers → FuseTeachers (the ensemble to
/// approach) → BinaryClassification.Trainers.MultiTeacherDistillation (a Boolean label: the positive class) → a model
/// zip that plain ML.NET loads, with the threshold chosen on validation; every model evaluated on held-out test images
/// by BinaryClassification.Evaluate at its validation threshold.
/// </summary>
public static class SampleRunner
{
    /// <summary>Runs the sample; returns the process exit code (2 for a bad command line, 1 for bad data, named in the message).</summary>
    public static int Main(SampleDefinition sample, string[] args) =>
        Shared.CommandLineRun.Invoke(SampleSettings.Command(sample, settings => Run(sample, settings)), args);

    public static void Run(SampleDefinition sample, SampleSettings settings)
    {
        var clock = Stopwatch.StartNew();
        void Log(string message) => Console.WriteLine($"[{clock.Elapsed:mm\\:ss}] {message}");
        OutputChecks.Folder(settings.Out, "--out");
        string output = Path.GetFullPath(settings.Out);
        Log($"{sample.Title}{(settings.Quick ? " (quick profile)" : "")}; output in {output}");

        // 1. Data: real images, or synthetic ones drawn into an ordinary image folder.
        var (root, splits, train, validation, test) = LoadSplits(sample, settings, Log);

        var ml = new MLContext(settings.Seed);
        var files = ImagePipeline.Rows(ml, splits.Train);
        var featurizer = ImagePipeline.Featurizer(ml, sample.Height, sample.Width).Fit(files);
        var toKey = ImagePipeline.LabelToKey(ml, splits.Classes).Fit(files);

        // 2. Teachers, 3. their logits, 4. the ensemble.
        var teacherPaths = settings.Teachers.Count > 0 ? settings.Teachers.Select(Path.GetFullPath).ToArray() : TrainTeachers(train, validation, settings, output, Log);
        var toBoolean = ImagePipeline.BooleanLabel(ml, sample.NegativeClass, sample.PositiveClass).Fit(train.ToDataView(ml));
        IDataView View(ImageDataset d) => toBoolean.Transform(d.ToDataView(ml)); // Features and a Boolean Label (true: the finding)
        using var scorer = ml.Transforms.ScoreTeachers(teacherPaths, batchSize: 32).Fit(View(train));
        var (trainScored, validationScored, testScored) = (scorer.Transform(View(train)), scorer.Transform(View(validation)), scorer.Transform(View(test)));
        // The ensemble's mean probability over the two classes (one-logit teachers are scored as [0, z]); class 1 is the finding.
        var fusion = ml.Transforms.FuseTeachers(FusionMethod.MeanProbability).Fit(trainScored);
        float[] Fused(IDataView scored) => fusion.Transform(scored).GetColumn<float[]>("Score").Select(s => s[1]).ToArray();
        var policy = sample.Threshold(settings.TargetRecall ?? 0.95);
        bool[] Truth(ImageDataset d) => d.Labels.Select(l => l == 1).ToArray();
        ModelResult Evaluate(string name, float[] validationProbabilities, float[] testProbabilities) =>
            ModelEvaluation.Evaluate(ml, name, validationProbabilities, Truth(validation), testProbabilities, Truth(test), policy);
        var ensemble = Evaluate("ensemble", Fused(validationScored), Fused(testScored));
        var teacherAccuracy = TeacherAccuracies(testScored, test, teacherPaths.Length);
        Log($"ensemble of {teacherPaths.Length} on test: {Describe(ensemble)}");

        // 5. The student, distilled; and the same network trained on the labels alone, for comparison.
        var distillation = StudentOptions(sample, settings, settings.Alpha);
        float[] Probability(StudentTransformer model, ImageDataset d) => model.Transform(View(d)).GetColumn<float>("Probability").ToArray();
        var student = ml.BinaryClassification.Trainers.MultiTeacherDistillation(distillation).Fit(trainScored);
        var studentResult = Evaluate("student", Probability(student, validation), Probability(student, test));
        student = student.WithThreshold((float)studentResult.Threshold); // the saved model decides at the validation threshold
        Log($"student ({settings.Method.Name}, T = {settings.Temperature}, α = {settings.Alpha}) on test: {Describe(studentResult)}");
        var baseline = ml.BinaryClassification.Trainers.MultiTeacherDistillation(StudentOptions(sample, settings, alpha: 1)).Fit(trainScored);
        var baselineResult = Evaluate("baseline", Probability(baseline, validation), Probability(baseline, test));
        Log($"baseline student (labels only) on test: {Describe(baselineResult)}");

        // 6. The model zip: image loading, resizing, pixel extraction and the student, loadable with plain ML.NET.
        var modelPath = Path.Combine(output, "model.zip");
        var model = new TransformerChain<ITransformer>(featurizer, student);
        AtomicFile.Write(modelPath, stream => ml.Model.Save(model, files.Schema, stream));
        student.SaveOnnx(Path.Combine(output, "student.onnx"));
        var zipCheck = CheckZip(modelPath, splits.Test, studentResult);
        Log($"saved {modelPath}; reloaded, it gives the same test probabilities to within {zipCheck.MaxAbsDifference:G2} at {zipCheck.ImagesPerSecond:F0} images/s from the files");

        // 7. Speed, figures, metrics.
        var speed = Speed(sample, output, teacherPaths, student, settings.Quick);
        Log($"speed, 1 CPU thread: student {speed.Student.MillisecondsAtBatch1:F2} ms/image, ensemble {speed.Ensemble.MillisecondsAtBatch1:F2} ms/image " +
            $"({speed.Ensemble.MillisecondsAtBatch1 / speed.Student.MillisecondsAtBatch1:F1}× faster at batch 1)");
        WritePlots(sample, output, splits.Test, test, studentResult, ensemble, baselineResult);
        WritePredictions(Path.Combine(output, "test-predictions.csv"), splits.Test, studentResult, sample);
        SampleMetrics.Write(Path.Combine(output, "metrics.json"), new SampleMetrics.Inputs(sample, settings, root, splits, studentResult, baselineResult, ensemble,
            teacherPaths, teacherAccuracy, speed, zipCheck, student, clock.Elapsed));
        Log($"wrote metrics.json, roc.png, precision-recall.png, test-predictions.png and test-predictions.csv in {output}");
        Log(string.Create(CultureInfo.InvariantCulture, $"peak resident memory {ProcessMemory.PeakResidentGiB():F2} GiB"));
    }

    /// <summary>
    /// The sample's images as its run reads them: real ones (<c>--data</c>) or the synthetic folder under <c>--out</c>
    /// (drawn when missing), split (seeded, unless the folder gives splits), the positive class as label 1, decoded once
    /// into uint8 caches under <c>--out</c>. The benchmarks read a finished run's images through this too.
    /// </summary>
    /// <param name="sample">The sample.</param>
    /// <param name="settings">Its settings (<c>--out</c>, <c>--data</c>, the seed, the synthetic images per class).</param>
    /// <param name="log">Progress lines.</param>
    /// <param name="asDrawn">Read synthetic images already under <c>--out</c> however many per class a run drew (a finished
    /// run's, for the benchmarks) instead of drawing the settings' number.</param>
    public static (string Root, ImageSplits Splits, ImageDataset Train, ImageDataset Validation, ImageDataset Test) LoadSplits(SampleDefinition sample,
        SampleSettings settings, Action<string> log, bool asDrawn = false)
    {
        string output = Path.GetFullPath(settings.Out);
        string synthetic = Path.Combine(output, "synthetic");
        string root = settings.Data ?? (asDrawn && SyntheticFolder.IsDrawn(synthetic) ? synthetic
            : SyntheticFolder.Ensure(synthetic, sample, settings.ImagesPerClass, settings.Seed));
        if (settings.Data is null)
            log($"SYNTHETIC images ({sample.Synthetic.Description}) in {root}");
        var splits = ImageFolder.Load(root, new ImageCheck(sample.Height, sample.Width), validationFraction: 0.2, settings.Seed, ignore: [output]);
        ReportSkipped(splits.Skipped, Path.Combine(output, "skipped.csv"), settings.Strict, log);
        if (splits.Classes.Count != 2 || !splits.Classes.Contains(sample.PositiveClass))
            throw new InvalidDataException($"'{root}' has classes {string.Join(", ", splits.Classes)}; this sample needs two, one of them named '{sample.PositiveClass}'.");
        int positiveIndex = splits.Classes.ToList().IndexOf(sample.PositiveClass);
        // Class 1 is the positive class whatever the folders' order: a binary model's "true".
        ImageDataset AsBinary(ImageDataset d) => d.WithLabels(d.Labels.Select(l => l == positiveIndex ? 1 : 0).ToArray()).WithClassNames([sample.NegativeClass, sample.PositiveClass]);
        log($"{splits.Train.Count} training, {splits.Validation.Count} validation, {splits.Test.Count} test images " +
            $"({(splits.SplitsGiven ? "given splits" : $"seeded split {settings.Seed}")}); classes {string.Join(", ", splits.Classes)}");
        // Decoded once into uint8 caches on disk (the same pixels the featurizer computes, bit for bit): training reads
        // batches from them, so memory does not grow with the number of photographs.
        var format = new ImageFormat(3, sample.Height, sample.Width, ResizeMode.Fill);
        ImageDataset Load(string split) => AsBinary(splits.Source.Load(split, format, cacheRoot: Path.Combine(output, "cache"), log: log));
        var (train, validation, test) = (Load("train"), Load("val"), Load("test"));
        log($"decoded and resized to {sample.Width}×{sample.Height} RGB, cached in {Path.Combine(output, "cache")}");
        return (root, splits, train, validation, test);
    }

    // Teachers and students alike: mirror images, and shifts of up to 12 pixels (padding with black).
    private static AugmentationOptions Augmentation => new() { HorizontalFlip = true, ShiftPixels = 12 };

    private static MultiTeacherDistillationOptions StudentOptions(SampleDefinition sample, SampleSettings settings, double alpha) => new()
    {
        StudentNetwork = SampleNetworks.Student(settings.StudentWidth),
        ImageChannels = 3, ImageHeight = sample.Height, ImageWidth = sample.Width,
        Distillation = { Method = settings.Method, Temperature = settings.Temperature, Alpha = alpha },
        Trainer =
        {
            Epochs = settings.StudentEpochs, BatchSize = 32, LearningRate = 3e-3, Schedule = ScheduleKind.Cosine,
            Augmentation = Augmentation, Seed = settings.Seed,
        },
    };

    private static string[] TrainTeachers(ImageDataset train, ImageDataset validation, SampleSettings settings, string output, Action<string> log)
    {
        var folder = Directory.CreateDirectory(Path.Combine(output, "teachers")).FullName;
        var spec = SampleNetworks.Teacher(settings.TeacherWidth);
        var options = new TrainerOptions
        {
            Epochs = settings.TeacherEpochs, BatchSize = 32, LearningRate = 3e-3, Schedule = ScheduleKind.Cosine, Seed = settings.Seed * 100,
            Augmentation = Augmentation,
        };
        var paths = new List<string>();
        foreach (var teacher in TeacherGeneration.Bagging(train, spec, settings.TeacherCount, settings.TeacherFraction, options, validation))
        {
            using var network = teacher.Network;
            var path = Path.Combine(folder, $"teacher-{teacher.Index}.onnx");
            OnnxExporter.Export(network, path, new OnnxExportOptions { ClassNames = train.ClassNames, BinaryLogit = true }); // one logit: the finding's
            paths.Add(path);
            log(string.Create(CultureInfo.InvariantCulture,
                $"teacher {teacher.Index + 1}/{settings.TeacherCount} ({spec.Name}, {settings.TeacherFraction:P0} of the images, " +
                    $"{settings.TeacherEpochs} epochs): validation accuracy {teacher.ValidationAccuracy:P1}"));
        }
        return paths.ToArray();
    }

    private static string Describe(ModelResult r) => string.Create(CultureInfo.InvariantCulture,
        $"accuracy {r.Test.Accuracy:P1}, precision {r.Test.PositivePrecision:P1}, recall {r.Test.PositiveRecall:P1}, F1 {r.Test.F1Score:F3}, ROC AUC {r.Test.AreaUnderRocCurve:F3} (threshold {r.Threshold:F3})");

    private static double[] TeacherAccuracies(IDataView scored, ImageDataset test, int teachers)
    {
        var logits = scored.GetColumn<float[]>(TeacherColumns.Logits).ToArray();
        int classes = test.ClassCount;
        return Enumerable.Range(0, teachers).Select(t =>
            (double)Enumerable.Range(0, test.Count).Count(i =>
            {
                var row = logits[i].AsSpan(t * classes, classes);
                int best = 0;
                for (int c = 1; c < classes; c++) if (row[c] > row[best]) best = c;
                return best == test.Labels[i];
            }) / test.Count).ToArray();
    }

    private static void ReportSkipped(IReadOnlyList<SkippedImage> skipped, string path, bool strict, Action<string> log)
    {
        AtomicFile.WriteAllText(path, "file,reason\n" + string.Concat(skipped.Select(s => $"{Csv(s.Path)},{Csv(s.Reason)}\n")));
        if (skipped.Count == 0) return;
        foreach (var s in skipped.Take(20))
            Console.Error.WriteLine($"  skipped {s.Path}: {s.Reason}");
        if (skipped.Count > 20)
            Console.Error.WriteLine($"  ... and {skipped.Count - 20} more");
        if (strict)
            throw new InvalidDataException($"{skipped.Count} image(s) are unfit (first: {skipped[0].Path}: {skipped[0].Reason}); listed in {path}. Fix " +
                $"or remove them, or run without --strict to leave them out.");
        log($"left out {skipped.Count} unfit image(s), listed in {path}");
    }

    internal static string Csv(string value) => value.IndexOfAny([',', '"', '\n']) >= 0 ? $"\"{value.Replace("\"", "\"\"")}\"" : value;

    // The zip is loaded back as an app would load it and run on the test files, to prove what was saved is what was evaluated.
    private static ZipCheck CheckZip(string modelPath, IReadOnlyList<LabelledImage> testImages, ModelResult student)
    {
        var ml = new MLContext();
        var loaded = ml.Model.Load(modelPath, out _);
        var rows = ImagePipeline.Rows(ml, testImages);
        var clock = Stopwatch.StartNew();
        // One pass over the files: each image is decoded and scored once.
        var predictions = ml.Data.CreateEnumerable<BinaryPrediction>(loaded.Transform(rows), reuseRowObject: false).ToArray();
        double seconds = clock.Elapsed.TotalSeconds;
        var actual = predictions.Select(p => p.Probability).ToArray();
        // The saved decision is the validation threshold's: PredictedLabel must agree with it on every image.
        int disagreements = predictions.Where((p, i) => p.PredictedLabel != (student.TestProbabilities[i] >= student.Threshold)).Count();
        if (disagreements > 0)
            throw new InvalidOperationException($"The saved model's PredictedLabel disagrees with the validation threshold {student.Threshold:F3} on {disagreements} test images.");
        return new ZipCheck(student.TestProbabilities.Zip(actual, (a, b) => (double)Math.Abs(a - b)).Max(), testImages.Count / seconds);
    }

    private static SpeedResult Speed(SampleDefinition sample, string output, IReadOnlyList<string> teachers, StudentTransformer student, bool quick)
    {
        int runs = quick ? 20 : 100;
        var studentOnnx = Path.Combine(output, "student.onnx");
        var studentSpeed = InferenceSpeed.Measure([studentOnnx], 3, sample.Height, sample.Width, runs);
        var ensembleSpeed = InferenceSpeed.Measure(teachers, 3, sample.Height, sample.Width, runs);
        long studentMacs = NetworkComplexity.Of(student.Network, 3, sample.Height, sample.Width, student.ClassNames.Count).MultiplyAccumulates;
        var teacherInfo = teachers.Select(OnnxModelInfo.Read).ToArray();
        return new SpeedResult(studentSpeed, ensembleSpeed, studentMacs, teacherInfo.Sum(t => t.Cost.MultiplyAccumulates), student.ParameterCount,
            teacherInfo.Sum(t => t.ParameterCount));
    }

    private static void WritePlots(SampleDefinition sample, string output, IReadOnlyList<LabelledImage> testImages, ImageDataset test,
        ModelResult student, ModelResult ensemble, ModelResult baseline)
    {
        var models = new[] { (student, new SkiaSharp.SKColor(31, 119, 180)), (ensemble, new SkiaSharp.SKColor(214, 39, 40)), (baseline, new SkiaSharp.SKColor(150, 150, 150)) };
        string Name(ModelResult r, double area) => string.Create(CultureInfo.InvariantCulture, $"{r.Name} ({area:F3})");
        SamplePlots.Curves(Path.Combine(output, "roc.png"), $"{sample.Title}: ROC on test images (AUC)", "false positive rate", "true positive rate (recall)",
            models.Select(m => new CurveSeries(Name(m.Item1, m.Item1.Test.AreaUnderRocCurve),
                ThresholdChoice.Sweep(m.Item1.TestProbabilities, m.Item1.TestTruth).Select(d => (d.FalsePositiveRate, d.Recall)).ToArray(), m.Item2,
                (m.Item1.FalsePositiveRate, m.Item1.Test.PositiveRecall))).ToArray(), diagonal: true);
        SamplePlots.Curves(Path.Combine(output, "precision-recall.png"), $"{sample.Title}: precision-recall on test images (area under the curve)", "recall", "precision",
            models.Select(m => new CurveSeries(Name(m.Item1, m.Item1.Test.AreaUnderPrecisionRecallCurve),
                ThresholdChoice.Sweep(m.Item1.TestProbabilities, m.Item1.TestTruth).Skip(1).Select(d => (d.Recall, d.Precision)).ToArray(), m.Item2,
                (m.Item1.Test.PositiveRecall, m.Item1.Test.PositivePrecision))).ToArray(), diagonal: false);

        // Every mistake first (up to half the grid), then test images spread evenly over the rest.
        bool Correct(int i) => (student.TestProbabilities[i] >= student.Threshold) == student.TestTruth[i];
        var wrong = Enumerable.Range(0, test.Count).Where(i => !Correct(i)).Take(12).ToArray();
        var right = Enumerable.Range(0, test.Count).Where(Correct).ToArray();
        int fill = Math.Min(right.Length, 24 - wrong.Length);
        var spread = Enumerable.Range(0, fill).Select(k => right[k * right.Length / fill]);
        var items = wrong.Concat(spread).Select(i => new GridItem(testImages[i].Path, testImages[i].Label,
            student.TestProbabilities[i] >= student.Threshold ? sample.PositiveClass : sample.NegativeClass, student.TestProbabilities[i])).ToArray();
        SamplePlots.Grid(Path.Combine(output, "test-predictions.png"),
            string.Create(CultureInfo.InvariantCulture, $"{sample.Title}: student on test images (p = P({sample.PositiveClass}), threshold " +
                $"{student.Threshold:0.000}); mistakes first"), items, (double)sample.Width / sample.Height);
    }

    private static void WritePredictions(string path, IReadOnlyList<LabelledImage> testImages, ModelResult student, SampleDefinition sample) =>
        AtomicFile.WriteAllText(path, "file,truth,probability,label\n" + string.Concat(testImages.Select((image, i) => string.Create(CultureInfo.InvariantCulture,
            $"{Csv(image.Path)},{image.Label},{student.TestProbabilities[i]:R},{(student.TestProbabilities[i] >= student.Threshold ? sample.PositiveClass : sample.NegativeClass)}\n"))));
}

/// <summary>How closely the reloaded zip reproduces the in-memory student, and its end-to-end speed from image files.</summary>
public sealed record ZipCheck(double MaxAbsDifference, double ImagesPerSecond);

/// <summary>Measured inference cost of the student and the ensemble.</summary>
public sealed record SpeedResult(SpeedFigures Student, SpeedFigures Ensemble, long StudentMacs, long EnsembleMacs, long StudentParameters, long EnsembleParameters);
