using System.Text.Json;

namespace Mtkd.Tests;

/// <summary>
/// Runs the Fashion-MNIST study's quick profile end to end on real images (a separate process: the study plots with
/// SkiaSharp 3, the ML.NET side of these tests loads SkiaSharp 2), then again to check that it resumes from its cache.
/// </summary>
public sealed class FashionMnistStudyTests
{
    [Fact]
    public void Quick_profile_writes_a_report_with_plots_and_a_rerun_trains_nothing()
    {
        var folder = Directory.CreateTempSubdirectory("mtkd-study-test-").FullName;
        var (code, output) = Run("--quick", "--out", folder);
        Assert.True(code == 0, output);

        var report = Path.Combine(folder, "report");
        var markdown = File.ReadAllText(Path.Combine(report, "report.md"));
        Assert.Contains("## Headline", markdown);
        Assert.Contains("| Borda |", markdown); // every fusion method has a row
        foreach (var plot in new[] { "accuracy-vs-teachers.png", "accuracy-vs-fraction.png", "accuracy-by-mode.png", "accuracy-vs-alpha.png",
            "training-curves.png", "confusion-matrix.png", "accuracy-vs-macs.png", "accuracy-vs-latency.png", "accuracy-vs-parameters.png" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(report, plot));
            Assert.True(bytes.Length > 1000 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G', plot);
            Assert.Contains($"]({plot})", markdown);
        }

        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "summary.json"))).RootElement;
        Assert.Equal(3, summary.GetProperty("baseline").GetProperty("Count").GetInt32());
        // Tiny runs, but far above chance (10 %): a broken pipeline would not get here.
        Assert.True(summary.GetProperty("baseline").GetProperty("Mean").GetDouble() > 0.5);
        Assert.True(summary.GetProperty("ensemble").GetProperty("Mean").GetDouble() > 0.5);
        Assert.True(summary.GetProperty("best").GetProperty("Mean").GetDouble() > 0.5);
        Assert.Contains(summary.GetProperty("bestMode").GetString(), new[] { "output_avg", "loss_avg", "mimic_all", "supernet", "confidence" });
        Assert.Equal(5, summary.GetProperty("cost").GetArrayLength()); // one teacher, ensembles of 2 and 3, the student, the mimic_all student

        var (again, secondOutput) = Run("--quick", "--out", folder, "--report-only");
        Assert.True(again == 0, secondOutput);
        var (resumed, thirdOutput) = Run("--quick", "--out", folder);
        Assert.True(resumed == 0, thirdOutput);
        Assert.DoesNotContain("training on", thirdOutput);
        Assert.DoesNotContain("views,", thirdOutput);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void Unknown_arguments_and_profiles_are_refused_by_name()
    {
        var (code, output) = Run("--fast");
        Assert.Equal(1, code);
        Assert.Contains("'--fast'", output);
    }

    private static (int Code, string Output) Run(params string[] arguments) =>
        SampleProcess.Run(Path.Combine("samples", "FashionMnist"), "fashion-mnist-study", arguments);
}
