using System.Text.Json;
using Mtkd.MLNet.Distillation;
using Mtkd.Training.Distillation;
using Mtkd.Training;

namespace Mtkd.Samples.Images;

/// <summary>
/// metrics.json: the student's test figures at the top level (accuracy, precision, recall, f1, auc, threshold), then the
/// same for the ensemble and the label-trained baseline, the data, the teachers and the speed comparison.
/// </summary>
public static class SampleMetrics
{
    public sealed record Inputs(SampleDefinition Sample, SampleSettings Settings, string DataRoot, ImageSplits Splits, ModelResult Student,
        ModelResult Baseline, ModelResult Ensemble, IReadOnlyList<string> TeacherPaths, IReadOnlyList<double> TeacherTestAccuracy, SpeedResult Speed,
        ZipCheck Zip, StudentTransformer StudentModel, TimeSpan Elapsed);

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void Write(string path, Inputs r)
    {
        var document = new
        {
            Sample = r.Sample.Name,
            Synthetic = r.Settings.Data is null,
            Data = r.DataRoot,
            Profile = r.Settings.Quick ? "quick" : "standard",
            Seed = r.Settings.Seed,
            Settings = new
            {
                Teachers = r.Settings.Teachers.Count > 0 ? "given" : $"{r.Settings.TeacherCount} x teacher-w{r.Settings.TeacherWidth}, " +
                    $"{r.Settings.TeacherEpochs} epochs, {r.Settings.TeacherFraction:P0} of the training images each",
                Student = $"student-w{r.Settings.StudentWidth}, {r.Settings.StudentEpochs} epochs",
                Mode = r.Settings.Method.Name,
                r.Settings.Temperature,
                r.Settings.Alpha,
            },
            r.Student.Test.Accuracy,
            Precision = r.Student.Test.PositivePrecision,
            Recall = r.Student.Test.PositiveRecall,
            F1 = r.Student.Test.F1Score,
            Auc = r.Student.Test.AreaUnderRocCurve,
            r.Student.Threshold,
            Metrics = "mlContext.BinaryClassification.Evaluate on the test images, at the threshold chosen on validation",
            ThresholdPolicy = r.Sample.Threshold(r.Settings.TargetRecall ?? 0.95).ToString(),
            PositiveClass = r.Sample.PositiveClass,
            Classes = r.Splits.Classes,
            Images = new { Train = r.Splits.Train.Count, Validation = r.Splits.Validation.Count, Test = r.Splits.Test.Count, Skipped = r.Splits.Skipped.Count, r.Splits.SplitsGiven },
            Student = Figures(r.Student, r.Speed.Student, r.Speed.StudentParameters, r.Speed.StudentMacs) with
            {
                Description = $"{r.StudentModel.Network.Name}, distilled ({r.Settings.Method.Name}, T = {r.Settings.Temperature}, alpha = {r.Settings.Alpha}, {r.Settings.StudentEpochs} epochs)",
            },
            BaselineStudent = Figures(r.Baseline, null, r.Speed.StudentParameters, r.Speed.StudentMacs) with
            {
                Description = $"{r.StudentModel.Network.Name}, trained on the labels alone with the same seed, data and schedule",
            },
            Ensemble = Figures(r.Ensemble, r.Speed.Ensemble, r.Speed.EnsembleParameters, r.Speed.EnsembleMacs) with
            {
                Description = $"mean probability of {r.TeacherPaths.Count} teachers",
            },
            Teachers = r.TeacherPaths.Select((p, i) => new { File = p, TestAccuracy = r.TeacherTestAccuracy[i] }).ToArray(),
            Speed = new
            {
                Note = "ONNX Runtime, 1 CPU thread, no spinning; median per image",
                StudentMsBatch1 = r.Speed.Student.MillisecondsAtBatch1,
                EnsembleMsBatch1 = r.Speed.Ensemble.MillisecondsAtBatch1,
                SpeedupBatch1 = r.Speed.Ensemble.MillisecondsAtBatch1 / r.Speed.Student.MillisecondsAtBatch1,
                StudentMsPerImageBatch16 = r.Speed.Student.MillisecondsPerImageAtBatch16,
                EnsembleMsPerImageBatch16 = r.Speed.Ensemble.MillisecondsPerImageAtBatch16,
                SpeedupBatch16 = r.Speed.Ensemble.MillisecondsPerImageAtBatch16 / r.Speed.Student.MillisecondsPerImageAtBatch16,
                MacsRatio = (double)r.Speed.EnsembleMacs / r.Speed.StudentMacs,
                ZipImagesPerSecondFromFiles = r.Zip.ImagesPerSecond,
            },
            ZipMaxAbsProbabilityDifference = r.Zip.MaxAbsDifference,
            ElapsedSeconds = Math.Round(r.Elapsed.TotalSeconds, 1),
        };
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(document, Json) + "\n");
    }

    private sealed record ModelFigures(string Description, double Accuracy, double Precision, double Recall, double F1, double Auc, double AreaUnderPrecisionRecallCurve,
        double Threshold, int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives, long Parameters, long Macs, double? MsBatch1);

    private static ModelFigures Figures(ModelResult m, SpeedFigures? speed, long parameters, long macs) =>
        new("", m.Test.Accuracy, m.Test.PositivePrecision, m.Test.PositiveRecall, m.Test.F1Score, m.Test.AreaUnderRocCurve, m.Test.AreaUnderPrecisionRecallCurve,
            m.Threshold, m.TruePositives, m.FalsePositives, m.TrueNegatives, m.FalseNegatives, parameters, macs, speed?.MillisecondsAtBatch1);
}
