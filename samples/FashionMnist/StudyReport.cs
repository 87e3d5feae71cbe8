using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Mtkd.Training;
using Mtkd.Training.Ensembles;

namespace Mtkd.Samples.FashionMnist;

/// <summary>
/// Writes report.md and the plots from whatever the cache holds; configurations not yet trained show as "–",
/// so a report can be written while a study is still running.
/// </summary>
public sealed class StudyReport(StudyProfile profile, Study study, IStudyLog log, string command)
{
    private readonly StudentRunner students = study.Students;
    private readonly TeacherRunner teachers = study.Teachers;

    public void Write(string directory, TimeSpan elapsed)
    {
        Directory.CreateDirectory(directory);
        var results = Collect();
        var figures = new StudyFigures(profile, study, results);
        var cost = MeasureCost(results);
        var plots = new StudyPlots(profile, study.Data, results, figures, cost).Write(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, "report.md"), Markdown(results, figures, cost, plots, elapsed));
        AtomicFile.WriteAllText(Path.Combine(directory, "summary.json"), System.Text.Json.JsonSerializer.Serialize(figures.Summary(cost),
            new System.Text.Json.JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
    }

    private StudyResults Collect()
    {
        var studentResults = new Dictionary<StudentRun, StudentResult>();
        foreach (var run in StudyPlan.Students(profile))
            if (ResultCache.TryRead<StudentResult>(Path.Combine(students.Folder(run), "result.json")) is { } r)
                studentResults[run] = r;
        var teacherResults = new Dictionary<(TeacherSet Set, int K), TeacherResult>();
        var testLogits = new Dictionary<(TeacherSet Set, int K), float[]>();
        foreach (var set in StudyPlan.TeacherSets(profile))
            for (int k = 0; k < set.Count; k++)
                if (ResultCache.TryRead<TeacherResult>(Path.Combine(teachers.Folder(set, k), "result.json")) is { } t)
                {
                    teacherResults[(set, k)] = t;
                    testLogits[(set, k)] = teachers.TestLogits(set, k);
                }
        return new StudyResults(studentResults, teacherResults, testLogits);
    }

    private CostTable? MeasureCost(StudyResults results)
    {
        int seed = profile.Seeds[0];
        var set = StudyPlan.TeacherSets(profile).FirstOrDefault(s => s.Seed == seed && s.Fraction == profile.CentreFraction);
        var baseline = results.Students.Keys.FirstOrDefault(r => r.IsBaseline && r.Seed == seed);
        if (set is null || baseline is null || Enumerable.Range(0, profile.CentreTeachers).Any(k => !results.Teachers.ContainsKey((set, k))))
            return null;
        log.Line("measuring ONNX Runtime latency (one thread)");
        var d = study.Data.Test;
        var rows = new List<CostRow>();
        var teacherFiles = Enumerable.Range(0, profile.CentreTeachers).Select(k => teachers.OnnxPath(set, k)).ToArray();
        var teacher = results.Teachers[(set, 0)];
        rows.Add(Row("one teacher", [teacherFiles[0]], teacher.Parameters, teacher.MultiplyAccumulates));
        foreach (int k in profile.TeacherCounts)
            rows.Add(Row($"ensemble of {k}", teacherFiles.Take(Math.Min(k, teacherFiles.Length)).ToArray(),
                Enumerable.Range(0, k).Sum(i => results.Teachers.TryGetValue((set, i), out var t) ? t.Parameters : 0),
                Enumerable.Range(0, k).Sum(i => results.Teachers.TryGetValue((set, i), out var t) ? t.MultiplyAccumulates : 0)));
        var b = results.Students[baseline];
        rows.Add(Row("student (baseline and single-head modes)", [students.OnnxPath(baseline)], b.Parameters, b.MultiplyAccumulates));
        var mimic = results.Students.Keys.FirstOrDefault(r => r.Mode == Mtkd.Training.Distillation.DistillationMode.MimicAll && r.Seed == seed && r.Teachers == profile.CentreTeachers);
        if (mimic is not null)
            rows.Add(Row($"student, mimic_all ({profile.CentreTeachers} heads)", [students.OnnxPath(mimic)], results.Students[mimic].Parameters, results.Students[mimic].MultiplyAccumulates));
        return new CostTable(rows);

        CostRow Row(string name, string[] files, long parameters, long macs) =>
            new(name, parameters, macs, files.Sum(f => new FileInfo(f).Length), OnnxLatency.Measure(files, d.Channels, d.Height, d.Width));
    }

    private string Markdown(StudyResults results, StudyFigures f, CostTable? cost, IReadOnlyList<(string File, string Title)> plots, TimeSpan elapsed)
    {
        var ci = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        var p = profile;
        int planned = StudyPlan.Students(p).Count;
        md.AppendLine(ci, $"# Fashion-MNIST study, {p.Name} profile");
        md.AppendLine();
        md.AppendLine(ci, $"Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} CPU cores ({RuntimeInformation.OSDescription.Trim()}, {RuntimeInformation.ProcessArchitecture}). " +
            $"Regenerate with `{command}` (results are cached per configuration; a rerun resumes). " +
            $"{results.Students.Count} of {planned} student runs and {results.Teachers.Count} teachers were in the cache; this invocation took {elapsed.TotalMinutes:F1} min.");
        md.AppendLine();
        md.AppendLine("## Setup");
        md.AppendLine();
        md.AppendLine(ci, $"- **Data:** the first {study.Data.Train.Count:N0} of Fashion-MNIST's 60,000 training images; all {study.Data.Test.Count:N0} test images for every figure. Nothing is tuned on the test set; the per-epoch test accuracies in the curves are only plotted.");
        md.AppendLine(ci, $"- **Teachers:** `{p.TeacherArchitecture}`, {p.TeacherEpochs} epochs, Adam 2e-3 with a cosine schedule, batch 128, random shifts of ±{p.Augmentation.ShiftPixels} px and horizontal flips; teacher k of seed s trains on its own random {string.Join(" / ", p.Fractions.Select(x => x.ToString(ci)))} share of the images (bagging), with seed 1000·s + k.");
        md.AppendLine(ci, $"- **Student:** `{p.StudentArchitecture}`. Every student of a seed trains on the same pool of {p.Views} views of each training image (the original and {p.Views - 1} augmented copies), {p.PassesOverViews} passes over the pool ({p.StudentEpochEquivalents} epoch-equivalents), from the same initial weights, in the same order, with the same optimiser (Adam 2e-3, cosine). The baseline learns the labels (cross-entropy); distilled students learn the teachers' logits for those very views (consistent teaching: the teachers are scored once on the pool), with T = {p.Temperature.ToString(ci)} and α the weight of the label term.");
        md.AppendLine(ci, $"- **Seeds:** {string.Join(", ", p.Seeds)}. Figures are the mean ± standard error over seeds; differences against the baseline are paired by seed.");
        md.AppendLine($"- **Grid:** {(p.FullGrid ? "the full cross product of" : "around a centre configuration")} K ∈ {{{string.Join(", ", p.TeacherCounts)}}}, fraction ∈ {{{string.Join(", ", p.Fractions.Select(x => x.ToString(ci)))}}}, modes {string.Join(", ", p.Modes.Select(m => Mtkd.Training.Distillation.DistillationModes.Name(m)))}, α ∈ {{{string.Join(", ", p.Alphas.Select(x => x.ToString(ci)))}}}" +
            (p.FullGrid ? "." : $"; the centre is K = {p.CentreTeachers}, fraction {p.CentreFraction.ToString(ci)}, and the K and fraction sweeps use {Mtkd.Training.Distillation.DistillationModes.Name(p.SweepMode)} with α = {p.CentreAlpha.ToString(ci)}."));
        md.AppendLine();

        md.AppendLine("## Headline");
        md.AppendLine();
        md.AppendLine(f.HeadlineTable(cost));
        md.AppendLine(f.TargetsTable(cost));

        md.AppendLine(ci, $"## Modes and α (K = {p.CentreTeachers}, fraction {p.CentreFraction.ToString(ci)})");
        md.AppendLine();
        md.AppendLine(f.ModeTable());
        md.AppendLine("## Number of teachers");
        md.AppendLine();
        md.AppendLine(f.SweepTable(isK: true));
        md.AppendLine("## Teacher training fraction");
        md.AppendLine();
        md.AppendLine(f.SweepTable(isK: false));
        md.AppendLine(ci, $"## The ensemble under every fusion method (K = {p.CentreTeachers}, fraction {p.CentreFraction.ToString(ci)})");
        md.AppendLine();
        md.AppendLine(f.FusionTable());
        md.AppendLine("## Inference cost");
        md.AppendLine();
        md.AppendLine(cost is null ? "Not measured yet: the first seed's centre teachers and baseline are not all trained.\n" : f.CostMarkdown(cost));
        md.AppendLine("## Plots");
        md.AppendLine();
        foreach (var (file, title) in plots)
        {
            md.AppendLine(ci, $"**{title}**");
            md.AppendLine();
            md.AppendLine(ci, $"![{title}]({file})");
            md.AppendLine();
        }
        return md.ToString();
    }
}

/// <summary>Everything the cache held when the report was written.</summary>
public sealed record StudyResults(
    IReadOnlyDictionary<StudentRun, StudentResult> Students,
    IReadOnlyDictionary<(TeacherSet Set, int K), TeacherResult> Teachers,
    IReadOnlyDictionary<(TeacherSet Set, int K), float[]> TestLogits);

public sealed record CostRow(string Name, long Parameters, long MultiplyAccumulates, long OnnxBytes, LatencyFigures Latency);

public sealed record CostTable(IReadOnlyList<CostRow> Rows);

/// <summary>Fused accuracy of the first K teachers of a set on the test set.</summary>
internal static class Fusion
{
    public static double Accuracy(StudyResults results, TeacherSet set, int k, FusionMethod method, Mtkd.Training.Data.ImageDataset test)
    {
        int c = test.ClassCount;
        var perTeacher = Enumerable.Range(0, k).Select(i => results.TestLogits[(set, i)]).ToArray();
        var weights = method == FusionMethod.WeightedAverage
            ? Enumerable.Range(0, k).Select(i => results.Teachers[(set, i)].History[^1].TrainAccuracy).ToArray() : null; // training accuracy: the test set chooses nothing
        var fusion = new EnsembleFusion(method, k, c, weights);
        var row = new float[k * c];
        var score = new float[c];
        int correct = 0;
        for (int n = 0; n < test.Count; n++)
        {
            for (int t = 0; t < k; t++) Array.Copy(perTeacher[t], n * c, row, t * c, c);
            if (fusion.Fuse(row, score) == test.Labels[n]) correct++;
        }
        return correct / (double)test.Count;
    }

    public static bool Has(StudyResults results, TeacherSet set, int k) => Enumerable.Range(0, k).All(i => results.TestLogits.ContainsKey((set, i)));
}
