using Mtkd.Training.Engine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Mtkd.Training;

namespace Mtkd.Samples.FashionMnist;

/// <summary>
/// Writes report.md, summary.json and the plots from whatever the cache holds; runs not yet trained show as "–", so a
/// report can be written while a study is still running.
/// </summary>
public sealed class StudyReport(Study study, IStudyLog log, string command)
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;
    private readonly StudyProfile profile = study.Profile;

    public void Write(string directory, TimeSpan elapsed)
    {
        Directory.CreateDirectory(directory);
        var regimes = profile.Regimes.Select(r => new RegimeFigures(study, r, r.Labels, profile.Seeds)).ToArray();
        var c = profile.Regimes.FirstOrDefault(r => r.Key == "C");
        var curve = c is null ? [] : profile.CurveLabels.Select(n => new RegimeFigures(study, c.AtLabels(n), n, profile.Seeds))
            .Append(new RegimeFigures(study, c, c.Labels, profile.Seeds)).ToArray();
        var cost = regimes.Select(MeasureCost).ToArray();
        var plots = new StudyPlots(regimes, curve, profile.CurveRecipe).Write(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, "report.md"), Markdown(regimes, curve, cost, plots, elapsed));
        AtomicFile.WriteAllText(Path.Combine(directory, "summary.json"), JsonSerializer.Serialize(Summary(regimes),
            new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
    }

    private static object Summary(RegimeFigures[] regimes) => regimes.Select(r => new
    {
        regime = r.Regime.Key,
        labels = r.Labels,
        ensemble = MeanSe.Of(r.Ensemble.Values),
        baseline = MeanSe.Of(r.StudentBySeed(StudentRecipe.Labels.Name).Values),
        lead = r.Lead,
        recipes = r.Regime.Distilled.Select(x => new { name = x.Name, accuracy = MeanSe.Of(r.StudentBySeed(x.Name).Values), gain = r.Gain(x), met = r.Met(x) }).ToArray(),
        best = r.Best?.Name,
        met = r.Best is { } b ? r.Met(b) : null,
    }).ToArray();

    // ONNX Runtime latency of seed 1's ensemble (its K teachers one after another) and of its label-trained student.
    private CostRow[]? MeasureCost(RegimeFigures r)
    {
        int seed = profile.Seeds[0];
        var teacherFiles = Enumerable.Range(0, r.Regime.Teachers.Count).Select(k => study.Teachers.OnnxPath(new TeacherId(r.Regime.Teachers, r.Labels, seed, k))).ToArray();
        var student = study.Students.OnnxPath(new StudentId(r.Regime, StudentRecipe.Labels, seed, r.Labels));
        if (!r.Teachers.TryGetValue(seed, out var teachers) || !File.Exists(student) || teacherFiles.Any(f => !File.Exists(f))) return null;
        log.Line($"measuring ONNX Runtime latency for regime {r.Regime.Key} (one thread)");
        var d = study.Data.Test;
        return
        [
            new($"ensemble of {teachers.Length}", teachers.Sum(t => t.Parameters), teachers.Sum(t => t.MultiplyAccumulates), OnnxLatency.Measure(teacherFiles, d.Channels, d.Height, d.Width)),
            new("student", r.Students.Values.First().Parameters, r.StudentMacs ?? 0, OnnxLatency.Measure([student], d.Channels, d.Height, d.Width)),
        ];
    }

    // Seconds recorded by the cached teachers and students a plan needs (each teacher once, however many students use it).
    private (double Teachers, double Students) ComputeSeconds(IReadOnlyList<StudentId> plan)
    {
        var teachers = plan.Where(s => s.Recipe.UsesTeachers).SelectMany(s => Enumerable.Range(0, s.Regime.Teachers.Count).Select(s.Teacher))
            .Select(study.Teachers.Folder).Distinct()
            .Sum(folder => ResultCache.TryRead<TeacherResult>(Path.Combine(folder, "result.json"))?.Seconds ?? 0);
        return (teachers, plan.Sum(s => study.Students.Cached(s)?.Seconds ?? 0));
    }

    private string Markdown(RegimeFigures[] regimes, RegimeFigures[] curve, CostRow[]?[] cost, IReadOnlyList<(string File, string Title)> plots, TimeSpan elapsed)
    {
        var md = new StringBuilder();
        var plan = study.Plan(explore: false);
        var explored = study.Plan(explore: true);
        int done = plan.Count(s => study.Students.Cached(s) is not null);
        md.AppendLine(Ci, $"# Fashion-MNIST study, {profile.Name} profile: does a distilled student beat standard training?");
        md.AppendLine();
        md.AppendLine(Ci, $"Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Environment.ProcessorCount} CPU cores " +
            $"({RuntimeInformation.OSDescription.Trim()}, {RuntimeInformation.ProcessArchitecture}). " +
            $"Regenerate with `{command}` (results are cached per configuration; a rerun resumes). {done} of {plan.Count} student runs were in the " +
                $"cache; this invocation took {elapsed.TotalMinutes:F1} min.");
        md.AppendLine();
        var (teacherSeconds, studentSeconds) = ComputeSeconds(plan);
        var (_, exploreSeconds) = ComputeSeconds(explored);
        md.AppendLine(Ci, $"Training time of the cached runs of this plan, one process at a time: teachers {teacherSeconds / 60:F0} min, students {studentSeconds / 60:F0} min, " +
            $"{(teacherSeconds + studentSeconds) / 60:F0} min in all{(done < plan.Count ? " so far" : "")}: what a fresh run of this profile costs on " +
                $"this machine (a student's time includes scoring the teachers it is the first to need). " +
            $"The exploratory recipes (`--explore`, first seed only) add {(exploreSeconds - studentSeconds) / 60:F0} min.");
        md.AppendLine();
        md.AppendLine("## Protocol");
        md.AppendLine();
        md.AppendLine(Ci, $"- **Data:** Fashion-MNIST; a regime's labelled images are the first N of the 60,000 training images (the files are " +
            $"shuffled); regime C adds {(profile.UnlabeledImages is { } u ? $"the next {u:N0}" : "all the others")} without labels. Every accuracy is " +
                $"on {study.Data.Test.Count:N0} test images, which choose nothing except where a table says \"best\".");
        md.AppendLine("- **Teachers** train on the labelled images only: teacher k of seed s on its own random share of them (seed 1000·s + k), " +
            "early-stopped on the validation accuracy of the labelled images it did not see (MTKD's protocol; a teacher on every labelled image trains " +
                "its full epochs instead), Adam 2e-3 with a cosine schedule over the maximum epochs, batch 128, random shifts of ±2 px and horizontal flips.");
        md.AppendLine("- **Students:** every student of a seed and architecture starts from the same weights (seed 1000·s + 500) and sees the same " +
            "number of images; each distilled recipe is compared with the baseline trained the standard way (cross-entropy on the labels) with the " +
                "same augmentation, mixup included where the recipe has it. Loss: (1 − α)·T²·KL(teachers ‖ student at T) + α·cross-entropy, the hard " +
                    "term on labelled rows only; the ensemble's target is the mean of the teachers' probabilities (output_avg).");
        md.AppendLine(Ci, $"- **Seeds:** {string.Join(", ", profile.Seeds)}; figures are mean ± standard error over seeds, and G and L are paired by " +
            $"seed. **L** = ensemble − baseline (what the teachers know beyond the student), **G** = student − its baseline.");
        md.AppendLine();

        md.AppendLine("## Headline");
        md.AppendLine();
        md.AppendLine("| regime | labels | ensemble | baseline | L | best recipe | student | G | G / L | target | met |");
        md.AppendLine("|---|---:|---:|---:|---:|---|---:|---:|---:|---|:---:|");
        foreach (var r in regimes)
        {
            var best = r.Best;
            var g = best is null ? default : r.Gain(best);
            md.AppendLine(Ci, $"| {r.Regime.Key}: {r.Regime.Title} | {r.Labels:N0} | {MeanSe.Of(r.Ensemble.Values)} | " +
                $"{MeanSe.Of(r.StudentBySeed(StudentRecipe.Labels.Name).Values)} | {Points(r.Lead)} | " +
                $"{best?.Name ?? "–"} | {(best is null ? "–" : MeanSe.Of(r.StudentBySeed(best.Name).Values).ToString())} | " +
                    $"{(best is null ? "–" : Points(g))} | {Share(g, r.Lead)} | {r.Regime.Target.Text} | {Verdict(best is null ? null : r.Met(best))} |");
        }
        md.AppendLine();
        md.AppendLine("\"Best recipe\" is the distilled recipe with the largest mean G among those measured on every seed, chosen on the test set, so " +
            "its figure is optimistic; each regime's table below gives every recipe tried, the exploratory ones (n = 1) included.");
        md.AppendLine();

        for (int i = 0; i < regimes.Length; i++)
            RegimeSection(md, regimes[i], cost[i]);

        var points = curve.Where(f => f.StudentBySeed(profile.CurveRecipe).Count > 0).OrderBy(f => f.Labels).ToArray();
        if (points.Length > 0)
        {
            md.AppendLine(Ci, $"## Regime C's recipe ({profile.CurveRecipe}) against the number of labels");
            md.AppendLine();
            var missing = profile.CurveLabels.Where(n => points.All(p => p.Labels != n)).ToArray();
            md.AppendLine(string.Create(Ci, $"The rest of the training images unlabelled; teachers as in regime C, trained on each label count with the same budget in images seen. ") +
                string.Create(Ci, $"The plan runs seed {profile.Seeds[0]} at each count; a point has more seeds where the cache holds them (`--seeds 2 " +
                    $"--regimes C --curve-labels 1000 --runs 4`, then the same with `--seeds 3`, add them at 1,000 labels), mean ± SE, G and L paired.") +
                (missing.Length == 0 ? "" : $" Not run yet: {string.Join(", ", missing.Select(n => n.ToString("N0", Ci)))} labels."));
            md.AppendLine();
            md.AppendLine("| labels | seeds | mean teacher | ensemble | baseline | student | L | G | G / L |");
            md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            var recipe = profile.Regime("C").Recipes.Single(x => x.Name == profile.CurveRecipe);
            foreach (var p in points)
                md.AppendLine(Ci, $"| {p.Labels:N0} | {p.Gain(recipe).Count} | {p.MeanTeacher} | {MeanSe.Of(p.Ensemble.Values)} | {MeanSe.Of(p.StudentBySeed(StudentRecipe.Labels.Name).Values)} | " +
                    $"{MeanSe.Of(p.StudentBySeed(recipe.Name).Values)} | {Points(p.Lead)} | {Points(p.Gain(recipe))} | {Share(p.Gain(recipe), p.Lead)} |");
            md.AppendLine();
        }

        md.AppendLine("## Plots");
        md.AppendLine();
        foreach (var (file, title) in plots)
        {
            md.AppendLine(Ci, $"**{title}**");
            md.AppendLine();
            md.AppendLine(Ci, $"![{title}]({file})");
            md.AppendLine();
        }
        return md.ToString();
    }

    private void RegimeSection(StringBuilder md, RegimeFigures r, CostRow[]? cost)
    {
        var g = r.Regime;
        md.AppendLine(Ci, $"## Regime {g.Key}: {g.Title}");
        md.AppendLine();
        var epochs = r.Teachers.Values.SelectMany(t => t).Select(t => (double)t.Epochs).DefaultIfEmpty(double.NaN).Average();
        string stopping = g.Teachers.Fraction < 1 && g.Teachers.Patience > 0
            ? string.Create(Ci, $"at most {g.Teachers.MaxEpochs} epochs, early-stopped with patience {g.Teachers.Patience} (mean {epochs:F1} epochs run)")
            : string.Create(Ci, $"{g.Teachers.MaxEpochs} epochs from its own seed (no early stopping: no labelled image is left to validate on)");
        string specialists = g.Teachers.Specialists
            ? $" specialists (Zaras et al. 2021; classes {string.Join("; ", Enumerable.Range(0, g.Teachers.Count).Select(k => g.Teachers.SpecialistOf(k, study.Data.Test.ClassCount)!.ToString()))}, each with \"other\"; unified into one teacher by the mean covering probability)"
            : "";
        md.AppendLine(string.Create(Ci, $"- Teachers: {g.Teachers.Count} × `{g.Teachers.Architecture}` width {g.Teachers.Width}{specialists}, each on " +
            $"{g.Teachers.Fraction:P0} of the {r.Labels:N0} labelled images, {stopping}") +
            (r.TeacherMacs is { } tm ? string.Create(Ci, $"; the ensemble costs {tm:N0} multiply-accumulates per image") : "") + ".");
        md.AppendLine(string.Create(Ci, $"- Student: `{g.StudentArchitecture}` width {g.StudentWidth}") +
            (r.StudentMacs is { } sm ? string.Create(Ci, $", {sm:N0} multiply-accumulates per " +
                $"image") + (r.TeacherMacs is { } t ? string.Create(Ci, $" ({(double)t / sm:F1}× fewer than the ensemble)") : "") : "") +
            string.Create(Ci, $"; every student sees {g.StudentSamples:N0} images (epochs over its training rows, rounded up)."));
        md.AppendLine(Ci, $"- Target: {g.Target.Text}.");
        md.AppendLine();
        md.AppendLine("| model | what it learns | test accuracy | n | G (paired) | G / L | met | teacher passes | wall time |");
        md.AppendLine("|---|---|---:|---:|---:|---:|:---:|---:|---:|");
        md.AppendLine(Ci, $"| {(g.Teachers.Specialists ? "mean specialist (on its own classes and \"other\")" : "mean single teacher")} | | {r.MeanTeacher} | {r.Teachers.Count} | | | | | {Seconds(r.Teachers.Values.Select(t => t.Sum(x => x.Seconds)))} for all K |");
        md.AppendLine(Ci, $"| {(g.Teachers.Specialists ? "unified ensemble of the specialists" : "ensemble (mean probability)")} | | {MeanSe.Of(r.Ensemble.Values)} | {r.Ensemble.Count} | L = {Points(r.Lead)} | | | | |");
        foreach (var recipe in g.Recipes)
        {
            var acc = MeanSe.Of(r.StudentBySeed(recipe.Name).Values);
            var runs = r.Students.Where(kv => kv.Key.Recipe == recipe.Name).Select(kv => kv.Value).ToArray();
            string passes = runs.Length == 0 ? "–" : runs.Average(x => (double)x.TeacherPasses).ToString("N0", Ci);
            if (recipe.IsBaseline)
                md.AppendLine(Ci, $"| **{recipe.Name}** | {recipe.Description} | {acc} | {acc.Count} | | | | | {Seconds(runs.Select(x => x.Seconds))} |");
            else
            {
                var gain = r.Gain(recipe);
                md.AppendLine(Ci, $"| {recipe.Name} | {recipe.Description} | {acc} | {acc.Count} | {Points(gain)} | {Share(gain, r.Lead)} | " +
                    $"{Verdict(r.Met(recipe))} | {passes} | {Seconds(runs.Select(x => x.Seconds))} |");
            }
        }
        md.AppendLine();
        if (cost is not null)
        {
            md.AppendLine("Inference, ONNX Runtime on one CPU thread (seed 1's models; the ensemble runs its teachers one after another):");
            md.AppendLine();
            md.AppendLine("| model | parameters | MACs per image | latency, batch 1 (ms) | per image at batch 256 (µs) |");
            md.AppendLine("|---|---:|---:|---:|---:|");
            foreach (var row in cost)
                md.AppendLine(Ci, $"| {row.Name} | {row.Parameters:N0} | {row.MultiplyAccumulates:N0} | {row.Latency.MillisecondsAtBatch1:F4} | {row.Latency.MicrosecondsPerImageAtBatch256:F2} |");
            md.AppendLine();
        }
    }

    private static string Points(MeanSe m) => m.Count == 0 ? "–"
        : double.IsNaN(m.StandardError) ? (100 * m.Mean).ToString("+0.00;−0.00", Ci)
        : $"{(100 * m.Mean).ToString("+0.00;−0.00", Ci)} ± {(100 * m.StandardError).ToString("F2", Ci)}";

    // G / L means something only while the teachers lead.
    // G / L means little when the lead is within its own noise (regime A's +0.02 ± 0.16 made −18): shown only for a lead above 2 SE.
    private static string Share(MeanSe gain, MeanSe lead) =>
        gain.Count == 0 || lead.Count == 0 || lead.Mean <= 0 ? "–"
        : lead.Count > 1 && lead.Mean <= 2 * lead.StandardError ? "(L ≈ 0)"
        : (gain.Mean / lead.Mean).ToString("0.00;−0.00", Ci);

    private static string Verdict(bool? met) => met switch { true => "yes", false => "**no**", null => "–" };

    private static string Seconds(IEnumerable<double> values)
    {
        var v = values.ToArray();
        return v.Length == 0 ? "–" : $"{v.Average():F0} s";
    }
}

public sealed record CostRow(string Name, long Parameters, long MultiplyAccumulates, LatencyFigures Latency);
