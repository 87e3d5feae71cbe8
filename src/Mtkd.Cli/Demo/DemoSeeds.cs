using System.Text.Json;
using System.Text.Json.Serialization;
using Mtkd.Training;
using Mtkd.Training.Engine;

namespace Mtkd.Cli.Demo;

/// <summary>The demo over several seeds: each seed's figures, and the distilled student's gain G over its label-trained twin, paired by seed.</summary>
/// <param name="Setting">The setting, in a sentence.</param>
/// <param name="Seeds">Each seed's report, in the order run.</param>
public sealed record DemoSeedsReport(string? Setting, IReadOnlyList<DemoReport> Seeds)
{
    public MeanSe Ensemble => MeanSe.Of(Seeds.Select(s => s.Ensemble.Accuracy));

    public MeanSe Baseline => MeanSe.Of(Seeds.Select(s => s.Baseline.Accuracy));

    public MeanSe Student => MeanSe.Of(Seeds.Select(s => s.Student.Accuracy));

    /// <summary>G: distilled − label-trained, paired by seed.</summary>
    public MeanSe Gain => MeanSe.Of(Seeds.Select(s => s.Student.Accuracy - s.Baseline.Accuracy));

    /// <summary>L: ensemble − label-trained, paired by seed: what the teachers know beyond the student.</summary>
    public MeanSe Lead => MeanSe.Of(Seeds.Select(s => s.Ensemble.Accuracy - s.Baseline.Accuracy));

    /// <summary>Whether G exceeds twice its standard error (false with one seed).</summary>
    public bool GainSignificant => Gain.Count > 1 && Gain.Mean > 2 * Gain.StandardError;

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals, // a standard error of one seed is NaN
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}

/// <summary>
/// Runs the demo once per seed, each into OUT/seed-N. A seed whose report is already there with the same settings is
/// reused, so an interrupted multi-seed run resumes at the seed it was on.
/// </summary>
public static class DemoSeeds
{
    /// <summary>Runs (or reuses) each seed's demo with <paramref name="runOne"/>, saying on <paramref name="note"/> which seeds were reused.</summary>
    public static DemoSeedsReport Run(DemoSettings settings, IReadOnlyList<int> seeds, Func<DemoSettings, DemoReport> runOne, Action<string> note,
        CancellationToken cancellation)
    {
        var reports = new List<DemoReport>();
        foreach (int seed in seeds)
        {
            var seedSettings = SettingsFor(settings, seed);
            var reportPath = Path.Combine(seedSettings.OutputDirectory, "report.json");
            if (DemoReport.TryRead(reportPath) is { } done && done.Configuration == seedSettings.Configuration)
            {
                note($"Seed {seed}: reusing {reportPath} (same settings).");
                reports.Add(done);
                continue;
            }
            cancellation.ThrowIfCancellationRequested();
            reports.Add(runOne(seedSettings));
        }
        var report = new DemoSeedsReport(reports.FirstOrDefault()?.Setting, reports);
        AtomicFile.WriteAllText(Path.Combine(settings.OutputDirectory, "seeds.json"), report.ToJson());
        return report;
    }

    /// <summary>One seed's settings: the seed, and its own folder under the output folder.</summary>
    public static DemoSettings SettingsFor(DemoSettings settings, int seed) =>
        settings with { Seed = seed, OutputDirectory = Path.Combine(settings.OutputDirectory, $"seed-{seed}") };
}
