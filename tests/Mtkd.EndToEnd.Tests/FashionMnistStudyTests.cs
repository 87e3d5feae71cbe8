using System.Text.Json;

namespace Mtkd.EndToEnd.Tests;

/// <summary>
/// Runs the Fashion-MNIST study's quick profile end to end on real images (a separate process: the study plots with
/// SkiaSharp 3, the ML.NET side of these tests loads SkiaSharp 2), then again to check that it resumes from its cache.
/// </summary>
[Trait("Category", "EndToEnd")] // a whole run (training, packing or a process); excluded by the fast filter
public sealed class FashionMnistStudyTests
{
    [Fact]
    public void Quick_profile_writes_a_report_with_plots_and_a_rerun_trains_nothing()
    {
        var folder = Directory.CreateTempSubdirectory("mtkd-study-test-").FullName;
        var (code, output) = Run("--quick", "--explore", "--out", folder);
        Assert.True(code == 0, output);

        var report = Path.Combine(folder, "report");
        var markdown = File.ReadAllText(Path.Combine(report, "report.md"));
        Assert.Contains("## Headline", markdown);
        Assert.Contains("## Regime A: same complexity", markdown);
        Assert.Contains("## Regime C: few labels", markdown);
        Assert.Contains("| out-of-bag |", markdown); // every recipe has a row
        Assert.Contains("| unlabelled |", markdown);
        Assert.Contains("## Regime S: specialists and mutual learning", markdown); // the specialists' unified ensemble, and peers without teachers
        Assert.Contains("| mutual 2 |", markdown);
        Assert.Contains("against the number of labels", markdown);
        foreach (var plot in new[] { "gain-by-regime.png", "accuracy-vs-labels.png" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(report, plot));
            Assert.True(bytes.Length > 1000 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G', plot);
            Assert.Contains($"]({plot})", markdown);
        }

        var regimes = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "summary.json"))).RootElement.EnumerateArray().ToArray();
        Assert.Equal(["A", "C", "S"], regimes.Select(r => r.GetProperty("regime").GetString()));
        foreach (var regime in regimes)
        {
            Assert.Equal(2, regime.GetProperty("baseline").GetProperty("Count").GetInt32()); // both seeds
            // Tiny runs, but far above chance (10 %): a broken pipeline would not get here.
            Assert.True(regime.GetProperty("baseline").GetProperty("Mean").GetDouble() > 0.5);
            Assert.True(regime.GetProperty("ensemble").GetProperty("Mean").GetDouble() > 0.5);
            foreach (var recipe in regime.GetProperty("recipes").EnumerateArray())
            {
                // The main recipes run on both seeds, the exploratory ones (regime A's stored and out-of-bag) on the first only.
                bool exploratory = recipe.GetProperty("name").GetString() is "stored" or "out-of-bag";
                Assert.Equal(exploratory ? 1 : 2, recipe.GetProperty("gain").GetProperty("Count").GetInt32());
                Assert.True(recipe.GetProperty("accuracy").GetProperty("Mean").GetDouble() > 0.5, recipe.GetProperty("name").GetString());
            }
        }

        var (again, secondOutput) = Run("--quick", "--out", folder, "--report-only");
        Assert.True(again == 0, secondOutput);
        var (resumed, thirdOutput) = Run("--quick", "--explore", "--out", folder);
        Assert.True(resumed == 0, thirdOutput);
        Assert.DoesNotContain("validation", thirdOutput); // no teacher trained
        Assert.DoesNotContain(" rows (", thirdOutput); // no student trained
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void Unknown_arguments_and_profiles_are_refused_by_name()
    {
        var (code, output) = Run("--fast");
        Assert.Equal(2, code); // a usage error, as for mtkd
        Assert.Contains("'--fast'", output);
        var (both, said) = Run("--quick", "--standard");
        Assert.Equal(2, both);
        Assert.Contains("give one", said);
    }

    private static (int Code, string Output) Run(params string[] arguments) =>
        SampleProcess.Run(Path.Combine("samples", "FashionMnist"), "fashion-mnist-study", arguments);
}
