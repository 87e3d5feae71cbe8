using Mtkd.Training.Engine;
using System.Globalization;
using ScottPlot;

namespace Mtkd.Samples.FashionMnist;

/// <summary>The study's PNG plots (ScottPlot): gains in points, error bars one standard error over seeds.</summary>
public sealed class StudyPlots(IReadOnlyList<RegimeFigures> regimes, IReadOnlyList<RegimeFigures> curve, string curveRecipe)
{
    private readonly List<(string File, string Title)> written = [];
    private string directory = "";

    public IReadOnlyList<(string File, string Title)> Write(string folder)
    {
        directory = folder;
        Gains();
        Curve();
        return written;
    }

    // Per regime: the ensemble's lead L, then each recipe's gain G over its baseline.
    private void Gains()
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var bars = new List<Bar>();
        var ticks = new List<(double, string)>();
        double x = 0;
        foreach (var r in regimes)
        {
            double start = x;
            var l = r.Lead;
            if (l.Count > 0)
                bars.Add(new Bar { Position = x, Value = 100 * l.Mean, Error = Se(l), FillColor = Colors.Gray, Label = "L" });
            x++;
            int i = 0;
            foreach (var recipe in r.Regime.Distilled)
            {
                var g = r.Gain(recipe);
                if (g.Count > 0)
                    bars.Add(new Bar { Position = x, Value = 100 * g.Mean, Error = Se(g), FillColor = palette.GetColor(i), Label = recipe.Name });
                x++;
                i++;
            }
            ticks.Add(((start + x - 1) / 2, $"regime {r.Regime.Key}"));
            x += 1;
        }
        if (bars.Count == 0) return;
        var series = plot.Add.Bars(bars);
        series.ValueLabelStyle.FontSize = 11;
        series.ValueLabelStyle.Rotation = -90;
        series.ValueLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Add.HorizontalLine(0, 1, Colors.Black);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.Select(t => t.Item1).ToArray(), ticks.Select(t => t.Item2).ToArray());
        double low = Math.Min(0, bars.Min(b => b.Value - b.Error)) - 0.5, high = bars.Max(b => b.Value + b.Error) + 1.5;
        plot.Axes.SetLimitsY(low, high);
        Save(plot, "gain-by-regime.png", "Ensemble lead L (grey) and each recipe's gain G over its baseline, in points", "regime and recipe",
            "test-accuracy points over the label-trained student", Math.Max(900, 60 * (int)x));
    }

    // Regime C's recipe at several label counts: ensemble, baseline and student accuracy.
    private void Curve()
    {
        var points = curve.Where(f => f.StudentBySeed(curveRecipe).Count > 0).OrderBy(f => f.Labels).ToArray();
        if (points.Length < 2) return;
        var plot = new Plot();
        double[] xs = points.Select(p => Math.Log10(p.Labels)).ToArray();
        Line(plot, "ensemble of teachers", xs, points.Select(p => p.Ensemble.Values.DefaultIfEmpty(double.NaN).Average()));
        Line(plot, "student, labels only", xs, points.Select(p => p.StudentBySeed(StudentRecipe.Labels.Name).Values.DefaultIfEmpty(double.NaN).Average()));
        Line(plot, $"student, {curveRecipe}", xs, points.Select(p => p.StudentBySeed(curveRecipe).Values.DefaultIfEmpty(double.NaN).Average()));
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(xs, points.Select(p => p.Labels.ToString("N0", CultureInfo.InvariantCulture)).ToArray());
        Save(plot, "accuracy-vs-labels.png", "Regime C's recipe against the labels (the rest unlabelled; mean over seeds)",
            "labelled training images (log scale)", "test accuracy (%)", 900);
    }

    private static void Line(Plot plot, string label, double[] xs, IEnumerable<double> accuracies)
    {
        var line = plot.Add.Scatter(xs, accuracies.Select(a => 100 * a).ToArray());
        line.LegendText = label;
        line.MarkerSize = 8;
    }

    private static double Se(MeanSe m) => double.IsNaN(m.StandardError) ? 0 : 100 * m.StandardError;

    private void Save(Plot plot, string file, string title, string xLabel, string yLabel, int width)
    {
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        if (plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().Any()) plot.ShowLegend(Edge.Right);
        plot.SavePng(Path.Combine(directory, file), width, 560);
        written.Add((file, title));
    }
}
