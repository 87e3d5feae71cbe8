using System.Globalization;
using Mtkd.Training.Distillation;
using ScottPlot;

namespace Mtkd.Samples.FashionMnist;

/// <summary>The study's PNG plots (ScottPlot). Accuracies are in percent; error bars are one standard error over seeds.</summary>
public sealed class StudyPlots(StudyProfile profile, StudyData data, StudyResults results, StudyFigures figures, CostTable? cost)
{
    private const int Width = 900, Height = 560;
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;
    private readonly List<(string File, string Title)> written = [];
    private string directory = "";

    /// <summary>Writes every plot the cache has data for; returns (file name, title) pairs for the report.</summary>
    public IReadOnlyList<(string File, string Title)> Write(string folder)
    {
        directory = folder;
        Sweep(isK: true, "accuracy-vs-teachers.png", "Test accuracy against the number of teachers K", "number of teachers K");
        Sweep(isK: false, "accuracy-vs-fraction.png", "Test accuracy against the teachers' training fraction", "share of the training images each teacher sees");
        Modes();
        Alphas();
        Curves();
        Confusion();
        if (cost is not null)
        {
            Cost("accuracy-vs-parameters.png", "Test accuracy against parameters", "parameters (log scale)", r => r.Parameters);
            Cost("accuracy-vs-macs.png", "Test accuracy against multiply-accumulates per image", "multiply-accumulates per image (log scale)", r => r.MultiplyAccumulates);
            Cost("accuracy-vs-latency.png", "Test accuracy against measured latency (ONNX Runtime, 1 thread, batch 1)", "latency per image at batch 1, ms (log scale)", r => r.Latency.MillisecondsAtBatch1);
        }
        return written;
    }

    private void Sweep(bool isK, string file, string title, string xLabel)
    {
        var points = figures.SweepPoints(isK).ToArray();
        double[] xs = points.Select(p => isK ? p.K : p.Fraction).ToArray();
        var plot = new Plot();
        Series(plot, "ensemble (mean probability)", xs, points.Select(p => MeanSe.Of(figures.EnsembleBySeed(p.K, p.Fraction).Values)));
        Series(plot, $"student: {figures.SweepRun(0, 0).Label}", xs, points.Select(p => MeanSe.Of(figures.StudentBySeed(figures.SweepRun(p.K, p.Fraction)).Values)));
        Series(plot, "mean single teacher", xs, points.Select(p => MeanSe.Of(figures.TeacherBySeed(p.K, p.Fraction).Values)));
        BaselineLine(plot);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(xs, xs.Select(x => x.ToString(Ci)).ToArray());
        Save(plot, file, title, xLabel);
    }

    private void Modes()
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var bars = new List<Bar>();
        var rows = figures.ModeRows;
        for (int m = 0; m < rows.Count; m++)
            for (int a = 0; a < profile.Alphas.Length; a++)
            {
                var acc = MeanSe.Of(figures.StudentBySeed(figures.Centre(rows[m].Mode, profile.Alphas[a], rows[m].Adjusted)).Values);
                if (acc.Count == 0) continue;
                bars.Add(new Bar
                {
                    Position = m * (profile.Alphas.Length + 1) + a, Value = 100 * acc.Mean, Error = Se(acc), FillColor = palette.GetColor(a),
                });
            }
        if (bars.Count == 0) return;
        plot.Add.Bars(bars);
        for (int a = 0; a < profile.Alphas.Length; a++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"α = {profile.Alphas[a].ToString(Ci)}", FillColor = palette.GetColor(a) });
        BaselineLine(plot);
        EnsembleLine(plot);
        double[] ticks = rows.Select((_, m) => m * (profile.Alphas.Length + 1) + (profile.Alphas.Length - 1) / 2.0).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks, rows.Select(r => r.Name.Replace(" (adjusted)", "\nadjusted", StringComparison.Ordinal)).ToArray());
        double baseline = MeanSe.Of(figures.StudentBySeed(figures.Baseline).Values).Mean * 100;
        double low = bars.Min(b => b.Value - b.Error) - 1;
        double high = new[] { bars.Max(b => b.Value + b.Error), Ensemble().Mean * 100, baseline }.Where(double.IsFinite).Max() + 0.5;
        plot.Axes.SetLimitsY(low, high);
        Save(plot, "accuracy-by-mode.png", $"Test accuracy by distillation mode (K = {profile.CentreTeachers}, fraction {profile.CentreFraction.ToString(Ci)})", "mode",
            width: Math.Max(Width, 140 * rows.Count));
    }

    private void Alphas()
    {
        var plot = new Plot();
        foreach (var (mode, adjusted, name) in figures.ModeRows)
            Series(plot, name, profile.Alphas, profile.Alphas.Select(a => MeanSe.Of(figures.StudentBySeed(figures.Centre(mode, a, adjusted)).Values)));
        BaselineLine(plot);
        EnsembleLine(plot);
        Save(plot, "accuracy-vs-alpha.png", "Test accuracy against α, the weight of the label term", "α");
    }

    private void Curves()
    {
        int seed = profile.Seeds[0];
        var plot = new Plot();
        var baseline = results.Students.FirstOrDefault(kv => kv.Key.IsBaseline && kv.Key.Seed == seed).Value;
        var best = figures.BestCentre is { } b ? results.Students.FirstOrDefault(kv => kv.Key.WithoutSeed == b && kv.Key.Seed == seed).Value : null;
        var teacher = results.Teachers.FirstOrDefault(kv => kv.Key.Set.Seed == seed && kv.Key.Set.Fraction == profile.CentreFraction && kv.Key.K == 0).Value;
        if (baseline is null) return;
        // Student passes cover several views each; scale them to epochs so they share the teachers' axis.
        Curve(plot, "student, baseline", baseline.History, profile.Views);
        if (best is not null) Curve(plot, $"student, {best.Mode} α = {best.Alpha.ToString(Ci)}", best.History, profile.Views);
        if (teacher is not null) Curve(plot, "teacher 0", teacher.History, 1);
        Save(plot, "training-curves.png", $"Test accuracy during training (seed {seed}; plotted only, never used to choose)", "epochs (student passes × views)");
    }

    private static void Curve(Plot plot, string label, EpochPoint[] history, int epochsPerPoint)
    {
        var line = plot.Add.Scatter(history.Select(e => (double)e.Epoch * epochsPerPoint).ToArray(), history.Select(e => 100 * e.TestAccuracy).ToArray());
        line.LegendText = label;
    }

    private void Confusion()
    {
        int seed = profile.Seeds[0];
        var run = figures.BestCentre;
        var result = run is null ? null : results.Students.FirstOrDefault(kv => kv.Key.WithoutSeed == run && kv.Key.Seed == seed).Value;
        if (result is null) return;
        int c = data.Test.ClassCount;
        var counts = new double[c, c];
        for (int i = 0; i < data.Test.Count; i++) counts[data.Test.Labels[i], result.Predictions[i]]++;
        // Row-normalised, so the diagonal reads as per-class recall.
        var share = new double[c, c];
        for (int t = 0; t < c; t++)
        {
            double total = Enumerable.Range(0, c).Sum(p => counts[t, p]);
            for (int p = 0; p < c; p++) share[t, p] = total == 0 ? 0 : 100 * counts[t, p] / total;
        }
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(share);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.Extent = new CoordinateRect(0, c - 1, 0, c - 1); // cell centres, one per integer
        plot.Add.ColorBar(heatmap);
        for (int t = 0; t < c; t++)
            for (int p = 0; p < c; p++)
            {
                var text = plot.Add.Text(share[t, p].ToString("F0", Ci), p, c - 1 - t);
                text.LabelFontSize = 11;
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelFontColor = share[t, p] > 50 ? Colors.Black : Colors.White;
            }
        var names = data.Test.ClassNames.ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(Enumerable.Range(0, c).Select(i => (double)i).ToArray(), names);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(Enumerable.Range(0, c).Select(i => (double)(c - 1 - i)).ToArray(), names);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 40;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 110;
        plot.YLabel("true class");
        Save(plot, "confusion-matrix.png", $"Confusion matrix, % of each true class: {result.Mode} α = {result.Alpha.ToString(Ci)}, seed {seed}, {100 * result.TestAccuracy:F2} %", "predicted class", 820, 760, legend: false);
    }

    private void Cost(string file, string title, string xLabel, Func<CostRow, double> x)
    {
        var plot = new Plot();
        var teacher = MeanSe.Of(figures.TeacherBySeed(profile.CentreTeachers, profile.CentreFraction).Values);
        var single = cost!.Rows.First(r => r.Name == "one teacher");
        Point(plot, "one teacher (mean)", x(single), teacher);
        foreach (int k in profile.TeacherCounts)
            if (cost.Rows.FirstOrDefault(r => r.Name == $"ensemble of {k}") is { } row)
                Point(plot, $"ensemble of {k}", x(row), MeanSe.Of(figures.EnsembleBySeed(k, profile.CentreFraction).Values));
        var student = cost.Rows.First(r => r.Name.StartsWith("student (baseline", StringComparison.Ordinal));
        Point(plot, "student, baseline", x(student), MeanSe.Of(figures.StudentBySeed(figures.Baseline).Values));
        if (figures.BestCentre is { } best)
        {
            var row = best.Mode == DistillationMode.MimicAll ? cost.Rows.FirstOrDefault(r => r.Name.Contains("mimic_all", StringComparison.Ordinal)) ?? student : student;
            Point(plot, $"student, {best.Label} α = {best.Alpha.ToString(Ci)}", x(row), MeanSe.Of(figures.StudentBySeed(best).Values));
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = v => Compact(Math.Pow(10, v)),
        };
        Save(plot, file, title, xLabel);
    }

    private static string Compact(double value) => value switch
    {
        >= 1e6 => (value / 1e6).ToString("G3", Ci) + "M",
        >= 1e3 => (value / 1e3).ToString("G3", Ci) + "k",
        _ => value.ToString("0.###", Ci),
    };

    private static void Point(Plot plot, string label, double x, MeanSe y)
    {
        if (y.Count == 0 || x <= 0) return;
        var marker = plot.Add.Scatter(new[] { Math.Log10(x) }, new[] { 100 * y.Mean });
        marker.LegendText = label;
        marker.MarkerSize = 10;
        if (y.Count > 1) plot.Add.ErrorBar(new[] { Math.Log10(x) }, new[] { 100 * y.Mean }, new[] { Se(y) }).Color = marker.Color;
    }

    private static void Series(Plot plot, string label, IReadOnlyList<double> xs, IEnumerable<MeanSe> values)
    {
        var v = values.ToArray();
        var keep = Enumerable.Range(0, xs.Count).Where(i => v[i].Count > 0).ToArray();
        if (keep.Length == 0) return;
        double[] x = keep.Select(i => xs[i]).ToArray(), y = keep.Select(i => 100 * v[i].Mean).ToArray();
        var line = plot.Add.Scatter(x, y);
        line.LegendText = label;
        line.MarkerSize = 7;
        plot.Add.ErrorBar(x, y, keep.Select(i => Se(v[i])).ToArray()).Color = line.Color;
    }

    private void BaselineLine(Plot plot)
    {
        var baseline = MeanSe.Of(figures.StudentBySeed(figures.Baseline).Values);
        if (baseline.Count == 0) return;
        var line = plot.Add.HorizontalLine(100 * baseline.Mean);
        line.LegendText = "student, baseline";
        line.LinePattern = LinePattern.Dashed;
        line.Color = Colors.Gray;
    }

    private MeanSe Ensemble() => MeanSe.Of(figures.EnsembleBySeed(profile.CentreTeachers, profile.CentreFraction).Values);

    private void EnsembleLine(Plot plot)
    {
        var ensemble = Ensemble();
        if (ensemble.Count == 0) return;
        var line = plot.Add.HorizontalLine(100 * ensemble.Mean);
        line.LegendText = $"ensemble of {profile.CentreTeachers}";
        line.LinePattern = LinePattern.Dotted;
        line.Color = Colors.Black;
    }

    private static double Se(MeanSe value) => double.IsNaN(value.StandardError) ? 0 : 100 * value.StandardError;

    private void Save(Plot plot, string file, string title, string xLabel, int width = Width, int height = Height, bool legend = true)
    {
        plot.Title(title);
        plot.XLabel(xLabel);
        if (string.IsNullOrEmpty(plot.Axes.Left.Label.Text)) plot.YLabel("test accuracy (%)");
        if (legend) plot.ShowLegend(Edge.Right);
        plot.SavePng(Path.Combine(directory, file), width, height);
        written.Add((file, title));
    }
}
