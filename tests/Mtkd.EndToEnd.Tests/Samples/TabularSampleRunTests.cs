using System.Text.Json;
using SkiaSharp;

namespace Mtkd.EndToEnd.Tests.Samples;

/// <summary>The tabular sample's quick profile, run as its README runs it (a separate process).</summary>
[Trait("Category", "EndToEnd")] // a whole run; excluded by the fast filter
public sealed class TabularSampleRunTests
{
    [Fact]
    public void Quick_profile_distils_MLNet_trainers_into_an_MLP_and_writes_metrics_plot_and_model()
    {
        var output = Directory.CreateTempSubdirectory("mtkd-tabular-sample-").FullName;
        var (code, log) = SampleProcess.Run(Path.Combine("samples", "Tabular"), "tabular-sample", "--quick", "--out", output);
        Assert.True(code == 0, log);
        Assert.Contains("LightGbm", log);
        Assert.Contains("identical predictions", log);

        var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json"))).RootElement;
        Assert.Equal("quick", metrics.GetProperty("profile").GetString());
        Assert.Equal(3, metrics.GetProperty("teachers").GetArrayLength());
        Assert.Equal(539, metrics.GetProperty("test_rows").GetInt32());
        // 50 labelled digits, 15 epochs: far above chance (0.1) for every model, or the pipeline is broken.
        foreach (var figure in new[] { "ensemble", "baseline_accuracy", "student_accuracy" })
            Assert.InRange(metrics.GetProperty(figure).GetProperty("mean").GetDouble(), 0.4, 1.0);
        using var plot = SKBitmap.Decode(Path.Combine(output, "accuracy.png"));
        Assert.True(plot is { Width: 900, Height: 500 });
        Assert.True(new FileInfo(Path.Combine(output, "model.zip")).Length > 1000);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(Path.Combine(output, "student.onnx"));
        Assert.Equal([-1, 64], session.InputMetadata["input"].Dimensions);

        var (bad, message) = SampleProcess.Run(Path.Combine("samples", "Tabular"), "tabular-sample", "--quick", "--data", Path.Combine(output, "none.csv.gz"), "--out", output);
        Assert.Equal(1, bad);
        Assert.Contains("python3-sklearn", message);
        var (unwritable, said) = SampleProcess.Run(Path.Combine("samples", "Tabular"), "tabular-sample", "--quick", "--out", "/proc/mtkd-tabular");
        Assert.Equal(1, unwritable);
        Assert.Contains("--out /proc/mtkd-tabular cannot be written", said);
    }
}
