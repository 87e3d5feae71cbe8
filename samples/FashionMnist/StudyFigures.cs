using System.Globalization;
using System.Text;
using Mtkd.Training.Distillation;
using Mtkd.Training.Ensembles;

namespace Mtkd.Samples.FashionMnist;

/// <summary>The study's numbers, aggregated over seeds, and the Markdown tables made of them.</summary>
public sealed class StudyFigures(StudyProfile profile, Study study, StudyResults results)
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    /// <summary>Test accuracy per seed of one configuration.</summary>
    public IReadOnlyDictionary<int, double> StudentBySeed(StudentRun configuration) =>
        results.Students.Where(kv => kv.Key.WithoutSeed == configuration.WithoutSeed).ToDictionary(kv => kv.Key.Seed, kv => kv.Value.TestAccuracy);

    public StudentRun Baseline => new(null, 0, 0, 0, 0);

    public StudentRun Centre(DistillationMode mode, double alpha, bool adjusted = false) =>
        new(mode, profile.CentreTeachers, profile.CentreFraction, alpha, 0, adjusted);

    /// <summary>The rows of the mode tables: every mode, as is and (when the profile asks) knowledge-adjusted.</summary>
    public IReadOnlyList<(DistillationMode Mode, bool Adjusted, string Name)> ModeRows =>
        profile.Adjustments.SelectMany(adj => profile.Modes.Select(m => (m, adj, new StudentRun(m, 0, 0, 0, 0, adj).Label))).ToArray();

    public StudentRun SweepRun(int k, double fraction) => new(profile.SweepMode, k, fraction, profile.CentreAlpha, 0, profile.SweepAdjusted);

    /// <summary>
    /// The centre configuration with the highest mean test accuracy; null before any has run. Chosen on the test
    /// set among the centre's configurations, so its figure is the optimistic end of the table it comes from.
    /// </summary>
    public StudentRun? BestCentre => ModeRows.SelectMany(r => profile.Alphas.Select(a => Centre(r.Mode, a, r.Adjusted)))
        .Select(r => (Run: r, Acc: MeanSe.Of(StudentBySeed(r).Values)))
        .Where(x => x.Acc.Count > 0).OrderByDescending(x => x.Acc.Mean).Select(x => x.Run).FirstOrDefault();

    /// <summary>Ensemble accuracy per seed: the first K teachers of each seed's set at a fraction, fused.</summary>
    public IReadOnlyDictionary<int, double> EnsembleBySeed(int k, double fraction, FusionMethod method = FusionMethod.MeanProbability)
    {
        // Tables and plots ask for the same ensembles many times; each asks fusion over the whole test set.
        if (!ensembles.TryGetValue((k, fraction, method), out var bySeed))
            ensembles[(k, fraction, method)] = bySeed = StudyPlan.TeacherSets(profile).Where(s => s.Fraction == fraction && Fusion.Has(results, s, k))
                .ToDictionary(s => s.Seed, s => Fusion.Accuracy(results, s, k, method, study.Data.Test));
        return bySeed;
    }

    private readonly Dictionary<(int K, double Fraction, FusionMethod Method), IReadOnlyDictionary<int, double>> ensembles = [];

    /// <summary>Mean single-teacher accuracy per seed over the first K teachers.</summary>
    public IReadOnlyDictionary<int, double> TeacherBySeed(int k, double fraction) =>
        StudyPlan.TeacherSets(profile).Where(s => s.Fraction == fraction && Fusion.Has(results, s, k))
            .ToDictionary(s => s.Seed, s => Enumerable.Range(0, k).Average(i => results.Teachers[(s, i)].TestAccuracy));

    public string HeadlineTable(CostTable? cost)
    {
        var md = new StringBuilder();
        var baseline = StudentBySeed(Baseline);
        md.AppendLine(Ci, $"K = {profile.CentreTeachers} teachers, fraction {profile.CentreFraction}; test accuracy in %, mean ± SE over seeds (n = number of seeds).");
        md.AppendLine();
        md.AppendLine("| model | test accuracy | n | vs baseline (paired) | MACs per image |");
        md.AppendLine("|---|---:|---:|---:|---:|");
        var single = TeacherBySeed(profile.CentreTeachers, profile.CentreFraction);
        var ensemble = EnsembleBySeed(profile.CentreTeachers, profile.CentreFraction);
        long? teacherMacs = results.Teachers.Values.FirstOrDefault()?.MultiplyAccumulates;
        long? studentMacs = results.Students.Values.FirstOrDefault(s => s.Mode != "mimic_all")?.MultiplyAccumulates;
        Row("single teacher (mean of the K)", single, teacherMacs);
        Row($"ensemble of {profile.CentreTeachers} (mean probability)", ensemble, teacherMacs * profile.CentreTeachers);
        Row("student, standard training (baseline)", baseline, studentMacs);
        if (BestCentre is { } best)
        {
            Row($"student, best distillation: {best.Label}, α = {best.Alpha.ToString(Ci)}", StudentBySeed(best),
                results.Students.FirstOrDefault(kv => kv.Key.WithoutSeed == best).Value?.MultiplyAccumulates);
            md.AppendLine();
            md.AppendLine("The best distillation is the best of the centre's configurations on the test set, so its figure is optimistic; the next table gives them all.");
        }
        return md.ToString();

        void Row(string name, IReadOnlyDictionary<int, double> bySeed, long? macs) =>
            md.AppendLine(Ci, $"| {name} | {MeanSe.Of(bySeed.Values)} | {bySeed.Count} | {Signed(MeanSe.Paired(bySeed, baseline))} | {(macs is { } m ? m.ToString("N0", Ci) : "–")} |");
    }

    public string TargetsTable(CostTable? cost)
    {
        var md = new StringBuilder();
        md.AppendLine("| target (standard profile) | measured | met |");
        md.AppendLine("|---|---:|:---:|");
        var baseline = StudentBySeed(Baseline);
        var ensemble = EnsembleBySeed(profile.CentreTeachers, profile.CentreFraction);
        if (BestCentre is { } best)
        {
            var student = StudentBySeed(best);
            var gain = MeanSe.Paired(student, baseline);
            var gap = MeanSe.Paired(student, ensemble);
            md.AppendLine(Ci, $"| best mode beats the baseline by ≥ 1.0 point | {Signed(gain)} points | {Met(gain.Mean * 100 >= 1.0)} |");
            md.AppendLine(Ci, $"| best mode within 0.3 points of the ensemble (student − ensemble) | {Signed(gap)} points | {Met(gap.Mean * 100 >= -0.3)} |");
        }
        if (cost is not null)
        {
            var ens = cost.Rows.First(r => r.Name == $"ensemble of {profile.CentreTeachers}");
            // The cheapness targets are about the student that is reported: mimic_all's carries K heads.
            var stu = BestCentre?.Mode == DistillationMode.MimicAll && cost.Rows.FirstOrDefault(r => r.Name.Contains("mimic_all", StringComparison.Ordinal)) is { } mimic
                ? mimic : cost.Rows.First(r => r.Name.StartsWith("student (baseline", StringComparison.Ordinal));
            double macs = ens.MultiplyAccumulates / (double)stu.MultiplyAccumulates;
            double lat1 = ens.Latency.MillisecondsAtBatch1 / stu.Latency.MillisecondsAtBatch1;
            double lat256 = ens.Latency.MicrosecondsPerImageAtBatch256 / stu.Latency.MicrosecondsPerImageAtBatch256;
            md.AppendLine(Ci, $"| {stu.Name} ≥ 15× cheaper than the ensemble of {profile.CentreTeachers} in multiply-accumulates | {macs:F1}× | {Met(macs >= 15)} |");
            md.AppendLine(Ci, $"| … in measured latency, batch 1 | {lat1:F1}× | {Met(lat1 >= 15)} |");
            md.AppendLine(Ci, $"| … in measured latency, batch 256 (per image) | {lat256:F1}× | {Met(lat256 >= 15)} |");
        }
        return md.ToString();
    }

    public string ModeTable()
    {
        var md = new StringBuilder();
        var baseline = StudentBySeed(Baseline);
        md.AppendLine("| mode | " + string.Join(" | ", profile.Alphas.Select(a => $"α = {a.ToString(Ci)} | vs baseline")) + " |");
        md.AppendLine("|---|" + string.Concat(profile.Alphas.Select(_ => "---:|---:|")));
        foreach (var (mode, adjusted, name) in ModeRows)
            md.AppendLine($"| {name} | " + string.Join(" | ", profile.Alphas.Select(a =>
            {
                var bySeed = StudentBySeed(Centre(mode, a, adjusted));
                return $"{MeanSe.Of(bySeed.Values)} | {Signed(MeanSe.Paired(bySeed, baseline))}";
            })) + " |");
        md.AppendLine($"| baseline (labels only) | {MeanSe.Of(baseline.Values)} |" + string.Concat(Enumerable.Repeat(" |", 2 * profile.Alphas.Length - 1)));
        if (profile.Adjustments.Contains(true))
        {
            md.AppendLine();
            md.AppendLine("*(adjusted)*: knowledge adjustment (Wen et al. 2019): wherever a teacher's top class on a training view is wrong, its logits for that class and the true class are swapped before distilling.");
        }
        return md.ToString();
    }

    /// <summary>The K sweep (<paramref name="isK"/>) or the fraction sweep, with the centre's sweep-mode run as one point.</summary>
    public string SweepTable(bool isK)
    {
        var md = new StringBuilder();
        md.AppendLine(isK
            ? $"Fraction {profile.CentreFraction.ToString(Ci)}; student: {SweepRun(0, 0).Label}, α = {profile.CentreAlpha.ToString(Ci)}."
            : $"K = {profile.CentreTeachers}; student: {SweepRun(0, 0).Label}, α = {profile.CentreAlpha.ToString(Ci)}.");
        md.AppendLine();
        md.AppendLine(isK ? "| K | mean teacher | ensemble | student | student vs baseline |" : "| fraction | mean teacher | ensemble | student | student vs baseline |");
        md.AppendLine("|---:|---:|---:|---:|---:|");
        var baseline = StudentBySeed(Baseline);
        foreach (var (k, f) in SweepPoints(isK))
        {
            var student = StudentBySeed(SweepRun(k, f));
            md.AppendLine(Ci, $"| {(isK ? k.ToString(Ci) : f.ToString(Ci))} | {MeanSe.Of(TeacherBySeed(k, f).Values)} | {MeanSe.Of(EnsembleBySeed(k, f).Values)} | " +
                $"{MeanSe.Of(student.Values)} | {Signed(MeanSe.Paired(student, baseline))} |");
        }
        return md.ToString();
    }

    public IEnumerable<(int K, double Fraction)> SweepPoints(bool isK) => isK
        ? profile.TeacherCounts.Select(k => (k, profile.CentreFraction))
        : profile.Fractions.Select(f => (profile.CentreTeachers, f));

    public string FusionTable()
    {
        var md = new StringBuilder();
        md.AppendLine("| fusion method | test accuracy | n |");
        md.AppendLine("|---|---:|---:|");
        foreach (var method in Enum.GetValues<FusionMethod>())
        {
            var bySeed = EnsembleBySeed(profile.CentreTeachers, profile.CentreFraction, method);
            md.AppendLine(Ci, $"| {method} | {MeanSe.Of(bySeed.Values)} | {bySeed.Count} |");
        }
        md.AppendLine();
        md.AppendLine("WeightedAverage weighs each teacher by its accuracy on its own training images in its last epoch, so the test set chooses nothing.");
        return md.ToString();
    }

    public string CostMarkdown(CostTable cost)
    {
        var md = new StringBuilder();
        md.AppendLine("ONNX Runtime on one CPU thread, no spinning; an ensemble runs its teachers one after another. Seed " + profile.Seeds[0] + "'s models.");
        md.AppendLine();
        md.AppendLine("| model | parameters | MACs per image | ONNX bytes | latency, batch 1 (ms) | per image at batch 256 (µs) |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var r in cost.Rows)
            md.AppendLine(Ci, $"| {r.Name} | {r.Parameters:N0} | {r.MultiplyAccumulates:N0} | {r.OnnxBytes:N0} | {r.Latency.MillisecondsAtBatch1:F4} | {r.Latency.MicrosecondsPerImageAtBatch256:F2} |");
        return md.ToString();
    }

    /// <summary>The headline figures for machines and for the README.</summary>
    public object Summary(CostTable? cost)
    {
        var baseline = StudentBySeed(Baseline);
        var best = BestCentre;
        var ensemble = EnsembleBySeed(profile.CentreTeachers, profile.CentreFraction);
        return new
        {
            profile = profile.Name,
            baseline = MeanSe.Of(baseline.Values),
            ensemble = MeanSe.Of(ensemble.Values),
            bestMode = best?.ModeName,
            bestAdjusted = best?.Adjusted,
            bestAlpha = best?.Alpha,
            best = best is null ? (MeanSe?)null : MeanSe.Of(StudentBySeed(best).Values),
            gainOverBaseline = best is null ? (MeanSe?)null : MeanSe.Paired(StudentBySeed(best), baseline),
            bestMinusEnsemble = best is null ? (MeanSe?)null : MeanSe.Paired(StudentBySeed(best), ensemble),
            cost = cost?.Rows,
        };
    }

    internal static string Signed(MeanSe d) => d.Count == 0 ? "–"
        : double.IsNaN(d.StandardError) ? (100 * d.Mean).ToString("+0.00;−0.00", Ci)
        : string.Create(Ci, $"{100 * d.Mean:+0.00;−0.00} ± {100 * d.StandardError:F2}");

    private static string Met(bool met) => met ? "yes" : "**no**";
}
