using System.Text.Json;
using Mtkd.MLNet.Distillation;
using Mtkd.Training;
using Mtkd.Training.Engine;
using ScottPlot;

namespace Mtkd.Samples.Tabular;

/// <summary>Figures over seeds (mean ± standard error; the gain paired by seed) and the files that report them.</summary>
public static class TabularReport
{
    public sealed record Summary(MeanSe Teachers, MeanSe[] EachTeacher, MeanSe Ensemble, MeanSe Baseline, MeanSe Student, MeanSe Gain);

    public static Summary Summarize(IReadOnlyList<SeedResult> runs) => new(
        MeanSe.Of(runs.Select(r => r.Teachers.Average())),
        Enumerable.Range(0, runs[0].Teachers.Length).Select(k => MeanSe.Of(runs.Select(r => r.Teachers[k]))).ToArray(),
        MeanSe.Of(runs.Select(r => r.Ensemble)),
        MeanSe.Of(runs.Select(r => r.Baseline)),
        MeanSe.Of(runs.Select(r => r.Student)),
        MeanSe.Paired(runs.ToDictionary(r => r.Seed, r => r.Student), runs.ToDictionary(r => r.Seed, r => r.Baseline)));

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void WriteMetrics(string path, TabularSettings settings, int rows, int testRows, int trainingRows, IReadOnlyList<SeedResult> runs, Summary s,
        StudentTransformer student, TimeSpan elapsed)
    {
        object Figure(MeanSe m) => new { Mean = Math.Round(m.Mean, 5), StandardError = double.IsNaN(m.StandardError) ? (double?)null : Math.Round(m.StandardError, 5) };
        var document = new
        {
            Sample = "tabular",
            Data = "scikit-learn's handwritten digits (Debian python3-sklearn): 64 pixel features, 10 classes",
            Profile = settings.Quick ? "quick" : "standard",
            Rows = rows, TestRows = testRows, LabelledRows = settings.Labels, UnlabelledRows = trainingRows - settings.Labels,
            settings.Seeds, settings.Epochs,
            Student = $"{student.Network.Name}, {student.ParameterCount} parameters, distilled with the library's default recipe (output_avg, T 1, alpha 0.5) " +
                "from the three teachers on the labelled and unlabelled rows",
            Baseline = "the same MLP, seed and schedule, trained on the labelled rows alone",
            Metric = "test accuracy (mlContext.MulticlassClassification.Evaluate, micro accuracy), mean and standard error over seeds",
            Teachers = runs[0].TeacherNames.Select((name, k) => new { Name = name, Accuracy = Figure(s.EachTeacher[k]) }).ToArray(),
            Ensemble = Figure(s.Ensemble),
            BaselineAccuracy = Figure(s.Baseline),
            StudentAccuracy = Figure(s.Student),
            GainPairedBySeed = Figure(s.Gain),
            PerSeed = runs,
            ElapsedSeconds = Math.Round(elapsed.TotalSeconds, 1),
        };
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(document, Json) + "\n");
    }

    public static void WritePlot(string path, TabularSettings settings, Summary s)
    {
        var plot = new Plot();
        var bars = new List<Bar>();
        var names = new List<string>();
        void Add(string name, MeanSe m, Color color)
        {
            bars.Add(new Bar { Position = bars.Count, Value = 100 * m.Mean, Error = double.IsNaN(m.StandardError) ? 0 : 100 * m.StandardError, FillColor = color });
            names.Add(name);
        }
        var teachers = new[] { "LightGbm", "FastTree", "SDCA" };
        for (int k = 0; k < s.EachTeacher.Length; k++)
            Add(k < teachers.Length ? teachers[k] : $"teacher {k}", s.EachTeacher[k], Colors.LightGray);
        Add("ensemble", s.Ensemble, Colors.Gray);
        Add("MLP, labels", s.Baseline, Colors.SteelBlue);
        Add("MLP, distilled", s.Student, Colors.DarkOrange);
        var series = plot.Add.Bars(bars);
        series.ValueLabelStyle.FontSize = 11;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(bars.Select(b => b.Position).ToArray(), names.ToArray());
        double low = bars.Min(b => b.Value - b.Error), high = bars.Max(b => b.Value + b.Error);
        plot.Axes.SetLimitsY(Math.Max(0, low - 5), Math.Min(100, high + 2));
        plot.Title($"Digits, {settings.Labels} labelled rows: test accuracy (mean ± SE over {settings.Seeds.Length} seed(s))");
        plot.YLabel("test accuracy (%)");
        plot.SavePng(path, 900, 500);
    }
}
