using System.Globalization;
using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Engine;

namespace Mtkd.Samples.FashionMnist;

/// <summary>One student: a recipe of a regime, for a seed, at the regime's label count or the curve's.</summary>
public sealed record StudentId(Regime Regime, StudentRecipe Recipe, int Seed, int Labels)
{
    public TeacherId Teacher(int k) => new(Regime.Teachers, Labels, Seed, k);
}

/// <summary>
/// Trains one student. Every student of a seed and architecture starts from the same weights, and baselines see the
/// same number of images as the distilled students of their regime, with the same augmentation (mixup included).
/// </summary>
public sealed class StudentRunner(StudyData data, ResultCache cache, TeacherRunner teachers, IStudyLog log)
{
    private static readonly AugmentationOptions Views = new() { ShiftPixels = 2, HorizontalFlip = true };

    public string Folder(StudentId s) => cache.Folder("students",
        string.Create(CultureInfo.InvariantCulture, $"{s.Regime.StudentArchitecture}{s.Regime.StudentWidth}-n{s.Labels}-{s.Recipe.Name.Replace(' ', '-').Replace('+', '-')}-s{s.Seed}"), Key(s));

    // Everything that shapes the student; a baseline's key names no teachers, so regimes that differ only in them share it.
    private string Key(StudentId s)
    {
        var teacherKeys = s.Recipe.IsBaseline ? "" : " teachers=" + string.Join(",", Enumerable.Range(0, s.Regime.Teachers.Count).Select(k => Path.GetFileName(teachers.Folder(s.Teacher(k)))));
        return string.Create(CultureInfo.InvariantCulture,
            $"student {s.Regime.StudentArchitecture} width={s.Regime.StudentWidth} labels={s.Labels} rows={TrainingData(s).Count} samples={s.Regime.StudentSamples} " +
            $"test={data.Test.Count} seed={s.Seed} shift=2 flip adam lr=0.002 cosine batch=128 {s.Recipe.Key}{teacherKeys}");
    }

    private ImageDataset TrainingData(StudentId s) => s.Recipe.Unlabeled ? data.WithUnlabeled(s.Labels) : data.Labeled(s.Labels);

    public string OnnxPath(StudentId s) => Path.Combine(Folder(s), "model.onnx");

    public StudentResult? Cached(StudentId s) => ResultCache.TryRead<StudentResult>(Path.Combine(Folder(s), "result.json"));

    public StudentResult Result(StudentId s)
    {
        if (Cached(s) is { } cached) return cached;
        var folder = Folder(s);
        ResultCache.Prepare(folder, Key(s));
        var train = TrainingData(s);
        int epochs = (int)Math.Ceiling(s.Regime.StudentSamples / (double)train.Count);
        var options = new TrainerOptions
        {
            Epochs = epochs, Seed = s.Seed * 1000 + 500, Schedule = ScheduleKind.Cosine, MetricsPath = Path.Combine(folder, "metrics.csv"),
            Augmentation = new AugmentationOptions { ShiftPixels = Views.ShiftPixels, HorizontalFlip = Views.HorizontalFlip, Mixup = s.Recipe.Mixup },
        };
        var spec = NetworkPresets.Get(s.Regime.StudentArchitecture, s.Regime.StudentWidth);
        using var student = NetworkTrainer.CreateNetwork(spec, train, options.Seed);
        log.Line($"student {s.Regime.Key}/{s.Recipe.Name} ({s.Labels:N0} labels, seed {s.Seed}): {train.Count:N0} rows ({train.LabeledCount:N0} labelled), {epochs} epochs");
        var started = DateTime.UtcNow;
        long teacherPasses = 0;
        if (s.Recipe.IsBaseline)
            NetworkTrainer.TrainSupervised(student, train, options, log.Progress("student"));
        else
            teacherPasses = Distill(s, student, train, options);
        double seconds = (DateTime.UtcNow - started).TotalSeconds;

        OnnxExporter.Export(student, OnnxPath(s), new OnnxExportOptions { FoldBatchNorm = true, ProbabilitiesName = null });
        var (_, accuracy) = NetworkTrainer.Evaluate(student, data.Test);
        var result = new StudentResult(s.Recipe.Name, s.Labels, s.Seed, accuracy, student.ParameterCount, student.Complexity.MultiplyAccumulates,
            seconds, epochs, train.Count, teacherPasses);
        ResultCache.Write(Path.Combine(folder, "result.json"), result);
        log.Line($"student {s.Regime.Key}/{s.Recipe.Name} seed {s.Seed}: {accuracy:P2} in {seconds:F0} s");
        return result;
    }

    // Returns the teacher passes the targets cost.
    private long Distill(StudentId s, SequentialNetwork student, ImageDataset train, TrainerOptions options)
    {
        int k = s.Regime.Teachers.Count;
        var ids = Enumerable.Range(0, k).Select(s.Teacher).ToArray();
        var distillation = new DistillationOptions
        {
            Temperature = s.Recipe.Temperature, Alpha = s.Recipe.Alpha, OutOfBagTeachers = s.Recipe.Signal == TeacherSignal.OutOfBag,
        };
        if (s.Recipe.Signal == TeacherSignal.Online)
        {
            var networks = ids.Select(teachers.Load).ToArray();
            try
            {
                NetworkTrainer.Distill(student, train, new DistillationTargets([], k, OnlineTeachers: new NetworkTeachers(networks)), options, distillation,
                    progress: log.Progress("student"));
            }
            finally
            {
                foreach (var n in networks) n.Dispose();
            }
            return (long)options.Epochs * train.Count * k;
        }
        if (s.Recipe.Signal == TeacherSignal.Pool)
        {
            // The pool replaces per-batch shifts and flips; its size sets the epochs for the same number of images seen.
            var pool = AugmentedViews.Create(train, Views, s.Recipe.Views, seed: s.Seed * 1000 + 700, includeOriginal: true);
            string poolName = string.Create(CultureInfo.InvariantCulture, $"pool{train.Count}-v{s.Recipe.Views}-s{s.Seed}");
            var poolLogits = ids.Select(t => teachers.Logits(t, pool, poolName)).ToArray();
            var poolOptions = new TrainerOptions
            {
                Epochs = (int)Math.Ceiling(s.Regime.StudentSamples / (double)pool.Count), Seed = options.Seed, Schedule = options.Schedule,
                MetricsPath = options.MetricsPath, Augmentation = new AugmentationOptions { Mixup = s.Recipe.Mixup },
            };
            NetworkTrainer.Distill(student, pool, new DistillationTargets(Interleave(poolLogits, pool.ClassCount), k), poolOptions, distillation,
                progress: log.Progress("student"));
            return (long)pool.Count * k;
        }
        string name = string.Create(CultureInfo.InvariantCulture, $"train{train.Count}");
        var perTeacher = ids.Select(t => teachers.Logits(t, train, name)).ToArray();
        var inBag = new bool[(long)train.Count * k];
        for (int t = 0; t < k; t++)
            foreach (int row in teachers.TrainingRows(ids[t]))
                inBag[(long)row * k + t] = true;
        var targets = new DistillationTargets(Interleave(perTeacher, train.ClassCount), k) { InBag = inBag };
        NetworkTrainer.Distill(student, train, targets, options, distillation, progress: log.Progress("student"));
        return (long)train.Count * k;
    }

    // Per-teacher [N × C] blocks into the soft-label layout [N × K × C].
    private static float[] Interleave(float[][] perTeacher, int classes)
    {
        int k = perTeacher.Length;
        long n = perTeacher[0].LongLength / classes;
        var result = new float[n * k * classes];
        for (long i = 0; i < n; i++)
            for (int t = 0; t < k; t++)
                Array.Copy(perTeacher[t], i * classes, result, (i * k + t) * classes, classes);
        return result;
    }
}
