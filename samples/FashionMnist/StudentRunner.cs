using System.Globalization;
using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Distillation.Methods;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Engine;
using Mtkd.Training.Teachers;

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
        var teacherKeys = !s.Recipe.UsesTeachers ? "" : " teachers=" + string.Join(",", Enumerable.Range(0, s.Regime.Teachers.Count).Select(k => Path.GetFileName(teachers.Folder(s.Teacher(k)))));
        return string.Create(CultureInfo.InvariantCulture,
            $"student {s.Regime.StudentArchitecture} width={s.Regime.StudentWidth} labels={s.Labels} rows={TrainingData(s).Count} samples={s.Regime.SamplesOf(s.Recipe)} " +
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
        int epochs = (int)Math.Ceiling(s.Regime.SamplesOf(s.Recipe) / (double)train.Count);
        var options = new TrainerOptions
        {
            Epochs = epochs, Seed = s.Seed * 1000 + 500, Schedule = ScheduleKind.Cosine, MetricsPath = Path.Combine(folder, "metrics.csv"),
            Augmentation = new AugmentationOptions { ShiftPixels = Views.ShiftPixels, HorizontalFlip = Views.HorizontalFlip, Mixup = s.Recipe.Mixup },
        };
        var spec = NetworkPresets.Get(s.Regime.StudentArchitecture, s.Regime.StudentWidth);
        log.Line($"student {s.Regime.Key}/{s.Recipe.Name} ({s.Labels:N0} labels, seed {s.Seed}): {train.Count:N0} rows ({train.LabeledCount:N0} labelled), {epochs} epochs");
        var started = DateTime.UtcNow;
        var (run, teacherPasses) = s.Recipe.Signal switch
        {
            TeacherSignal.None => (new DistillationJob { Data = train, Student = spec, Trainer = options, Distillation = { Method = new LabelsOnly() }, Progress = log.Progress("student") }.Run(), 0L),
            // Peer 0 starts from the baseline's weights, the others from their own seeds; all see the same batches. Peer 0 is reported.
            TeacherSignal.Mutual => (new DistillationJob
            {
                Data = train, Student = spec, Trainer = options, Progress = log.Progress("student"),
                Distillation = new DistillationOptions { Temperature = s.Recipe.Temperature, Alpha = s.Recipe.Alpha, Method = new MutualLearning { Students = s.Recipe.Peers } },
            }.Run(), 0L),
            _ => Distill(s, spec, train, options),
        };
        using var trained = run;
        var student = run.Student;
        double seconds = (DateTime.UtcNow - started).TotalSeconds;

        OnnxExporter.Export(student, OnnxPath(s), new OnnxExportOptions { FoldBatchNorm = true, ProbabilitiesName = null });
        var (_, accuracy) = NetworkTrainer.Evaluate(student, data.Test);
        var result = new StudentResult(s.Recipe.Name, s.Labels, s.Seed, accuracy, student.ParameterCount, student.Complexity.MultiplyAccumulates,
            seconds, epochs, train.Count, teacherPasses);
        ResultCache.Write(Path.Combine(folder, "result.json"), result);
        log.Line($"student {s.Regime.Key}/{s.Recipe.Name} seed {s.Seed}: {accuracy:P2} in {seconds:F0} s");
        return result;
    }

    // The job of the recipe's teacher signal, run; and the teacher passes it cost.
    private (DistillationResult Result, long TeacherPasses) Distill(StudentId s, NetworkSpec spec, ImageDataset train, TrainerOptions options)
    {
        int k = s.Regime.Teachers.Count;
        var ids = Enumerable.Range(0, k).Select(s.Teacher).ToArray();
        var distillation = new DistillationOptions
        {
            Temperature = s.Recipe.Temperature, Alpha = s.Recipe.Alpha, OutOfBagTeachers = s.Recipe.Signal == TeacherSignal.OutOfBag,
        };
        if (s.Regime.Teachers.Specialists)
        {
            // Specialists teach as one unified teacher, which their ONNX files (with their classes) make: online or from a pool.
            if (s.Recipe.Signal is not (TeacherSignal.Online or TeacherSignal.Pool))
                throw new ArgumentException($"Regime {s.Regime.Key}: specialists teach online or from a pool of views, not '{s.Recipe.Name}'.");
            using var unified = OnnxTeachers.Load(ids.Select(t => { teachers.Result(t); return TeacherModel.FromFile(teachers.OnnxPath(t)); }).ToArray());
            var taught = new DistillationJob
            {
                Data = train, Teachers = unified, ConsistentTeaching = s.Recipe.Signal == TeacherSignal.Online,
                Views = s.Recipe.Signal == TeacherSignal.Pool ? s.Recipe.Views : 1, Student = spec, Trainer = options, Distillation = distillation,
                Progress = log.Progress("student"),
            }.Run();
            return (taught, taught.TeacherPasses);
        }
        if (s.Recipe.Signal is TeacherSignal.Online or TeacherSignal.Pool)
        {
            // Online: the teachers score every augmented batch. Pool: they score a pool of views once, which replaces
            // per-batch shifts and flips; the job runs ⌈epochs / views⌉ passes over it, the same number of images seen.
            var networks = ids.Select(teachers.Load).ToArray();
            try
            {
                var result = new DistillationJob
                {
                    Data = train, Teachers = new NetworkTeachers(networks), ConsistentTeaching = s.Recipe.Signal == TeacherSignal.Online,
                    Views = s.Recipe.Signal == TeacherSignal.Pool ? s.Recipe.Views : 1, Student = spec, Trainer = options, Distillation = distillation,
                    Progress = log.Progress("student"),
                }.Run();
                return (result, result.TeacherPasses);
            }
            finally
            {
                foreach (var n in networks) n.Dispose();
            }
        }
        string name = string.Create(CultureInfo.InvariantCulture, $"train{train.Count}");
        var perTeacher = ids.Select(t => teachers.Logits(t, train, name)).ToArray();
        var inBag = new float[(long)train.Count * k];
        for (int t = 0; t < k; t++)
            foreach (int row in teachers.TrainingRows(ids[t]))
                inBag[(long)row * k + t] = 1;
        var data = train.WithColumn(TeacherColumns.Logits, Interleave(perTeacher, train.ClassCount), k * train.ClassCount).WithColumn(TeacherColumns.InBag, inBag, k);
        return (new DistillationJob { Data = data, Student = spec, Trainer = options, Distillation = distillation, Progress = log.Progress("student") }.Run(),
            (long)train.Count * k);
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
