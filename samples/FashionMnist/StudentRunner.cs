using System.Globalization;
using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Training;

namespace Mtkd.Samples.FashionMnist;

/// <summary>
/// Trains one student on a seed's pool of augmented views: the baseline on the labels, the others on the
/// teachers' logits for those very views. Baseline and distilled students of a seed start from the same
/// weights and see the same images in the same order; only the targets differ.
/// </summary>
public sealed class StudentRunner(StudyProfile profile, StudyData data, ResultCache cache, TeacherRunner teachers, IStudyLog log)
{
    private (int Seed, ImageDataset Views)? pool;

    public NetworkSpec Spec { get; } = NetworkPresets.Get(profile.StudentArchitecture, profile.StudentWidth);

    public string Folder(StudentRun run) => cache.Folder("students",
        run.IsBaseline ? $"baseline-s{run.Seed}"
            : string.Create(CultureInfo.InvariantCulture, $"{run.ModeName}{(run.Adjusted ? "-adjusted" : "")}-k{run.Teachers}-f{run.Fraction}-a{run.Alpha}-s{run.Seed}"),
        Key(run));

    // Every setting that shapes the student, the teachers' own keys included (through their folder names).
    private string Key(StudentRun run)
    {
        var set = StudyPlan.TeacherSetOf(profile, run);
        var teacherFolders = run.IsBaseline ? "" : string.Join(",", Enumerable.Range(0, run.Teachers).Select(k => Path.GetFileName(teachers.Folder(set, k))));
        // The baseline learns the labels, so no distillation setting may split its cache.
        var targets = run.IsBaseline ? "mode=baseline"
            : string.Create(CultureInfo.InvariantCulture, $"mode={run.ModeName} T={profile.Temperature} alpha={run.Alpha} teachers=[{teacherFolders}]{(run.Adjusted ? " adjusted" : "")}");
        return string.Create(CultureInfo.InvariantCulture,
            $"student {Spec.Name} width={profile.StudentWidth} views={profile.Views} passes={profile.PassesOverViews} train={data.Train.Count} test={data.Test.Count} " +
            $"shift={profile.Augmentation.ShiftPixels} flip={profile.Augmentation.HorizontalFlip} seed={run.Seed} adam lr=0.002 cosine batch=128 {targets}");
    }

    public string OnnxPath(StudentRun run) => Path.Combine(Folder(run), "model.onnx");

    public StudentResult Result(StudentRun run)
    {
        var folder = Folder(run);
        var resultPath = Path.Combine(folder, "result.json");
        if (ResultCache.TryRead<StudentResult>(resultPath) is { } cached) return cached;

        ResultCache.Prepare(folder, Key(run));
        var views = Views(run.Seed);
        var options = new TrainerOptions
        {
            Epochs = profile.PassesOverViews, Seed = run.Seed * 1000 + 500, Schedule = ScheduleKind.Cosine,
            MetricsPath = Path.Combine(folder, "metrics.csv"),
        };
        using var student = NetworkTrainer.CreateNetwork(Spec, data.Train, options.Seed, heads: run.Mode == DistillationMode.MimicAll ? run.Teachers : 1);
        log.Line($"student {run}: {views.Count:N0} views, {profile.PassesOverViews} passes");
        var started = DateTime.UtcNow;
        IReadOnlyList<EpochSummary> history;
        if (run.Mode is not { } mode)
            history = NetworkTrainer.TrainSupervised(student, views, options, log.Progress("student"), validation: data.Test);
        else
        {
            var set = StudyPlan.TeacherSetOf(profile, run);
            var targets = new DistillationTargets(Interleave(Enumerable.Range(0, run.Teachers)
                .Select(k => teachers.ViewLogits(set, k, views, PoolName(run.Seed))).ToArray(), views.ClassCount), run.Teachers);
            var distillation = new DistillationOptions { Mode = mode, Temperature = profile.Temperature, Alpha = run.Alpha, AdjustWrongTeachers = run.Adjusted };
            history = NetworkTrainer.Distill(student, views, targets, options, distillation, validation: data.Test, progress: log.Progress("student"));
        }
        double seconds = (DateTime.UtcNow - started).TotalSeconds;

        OnnxExporter.Export(student, Path.Combine(folder, "model.onnx"), new OnnxExportOptions { FoldBatchNorm = true, ProbabilitiesName = null });
        var logits = NetworkTrainer.PredictLogits(student, data.Test);
        int classes = data.Test.ClassCount;
        var predictions = Enumerable.Range(0, data.Test.Count).Select(i => ArgMax(logits.AsSpan(i * classes, classes))).ToArray();
        double accuracy = predictions.Where((p, i) => p == data.Test.Labels[i]).Count() / (double)data.Test.Count;
        var result = new StudentResult(run.Label, run.Teachers, run.Fraction, run.Alpha, run.Seed, accuracy,
            student.ParameterCount, student.Complexity.MultiplyAccumulates, seconds, TeacherRunner.History(history), predictions);
        ResultCache.Write(resultPath, result);
        log.Line($"student {run}: {result.TestAccuracy:P2} in {seconds:F0} s");
        return result;
    }

    private string PoolName(int seed) => $"v{profile.Views}-s{seed}";

    // One seed's views at a time: the pool is the largest thing the study holds in memory.
    private ImageDataset Views(int seed)
    {
        if (pool is { } p && p.Seed == seed) return p.Views;
        pool = null;
        var views = AugmentedViews.Create(data.Train, profile.Augmentation, profile.Views, seed, includeOriginal: true);
        pool = (seed, views);
        return views;
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int j = 1; j < values.Length; j++)
            if (values[j] > values[best]) best = j;
        return best;
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
