using System.Globalization;
using System.Text.Json;
using Mtkd.Samples.Corrosion;
using Mtkd.Samples.Images;
using Mtkd.Samples.Smoke;
using Mtkd.Training.Data;
using Mtkd.Training.Onnx;
using Mtkd.Training.Engine;
using SkiaSharp;

namespace Mtkd.EndToEnd.Tests.Samples;

/// <summary>
/// The Corrosion and Smoke samples' quick profiles, run end to end as their READMEs run them (separate processes),
/// then the predictor app, which knows only ML.NET, on the saved zip.
/// </summary>
[Trait("Category", "EndToEnd")] // a whole run (training, packing or a process); excluded by the fast filter
public sealed class ImageSampleRunTests
{
    [Theory]
    [InlineData("Corrosion", "corrosion-sample", "corrosion", 240, 320)]
    [InlineData("Smoke", "smoke-sample", "smoke", 180, 320)]
    public void Quick_profile_writes_model_metrics_and_plots_and_the_predictor_reproduces_the_test_probabilities(
        string project, string assembly, string positive, int height, int width)
    {
        var output = Directory.CreateTempSubdirectory($"mtkd-{assembly}-").FullName;
        var (code, log) = Run(project, assembly, "--quick", "--out", output);
        Assert.True(code == 0, log);
        Assert.Contains("SYNTHETIC images", log);

        var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json"))).RootElement;
        foreach (var name in new[] { "accuracy", "precision", "recall", "f1", "auc", "threshold" })
        {
            double value = metrics.GetProperty(name).GetDouble();
            Assert.True(value is >= 0 and <= 1, $"{name} = {value}");
        }
        Assert.True(metrics.GetProperty("synthetic").GetBoolean());
        Assert.Equal(positive, metrics.GetProperty("positive_class").GetString());
        // Small runs, but well above chance on balanced classes: a broken pipeline would not get here.
        Assert.True(metrics.GetProperty("ensemble").GetProperty("auc").GetDouble() > 0.7, log);
        Assert.True(metrics.GetProperty("auc").GetDouble() > 0.7, log);
        Assert.Equal(0, metrics.GetProperty("zip_max_abs_probability_difference").GetDouble(), 5);
        Assert.True(metrics.GetProperty("speed").GetProperty("macs_ratio").GetDouble() > 1);
        var images = metrics.GetProperty("images");
        Assert.Equal(400, images.GetProperty("train").GetInt32() + images.GetProperty("validation").GetInt32() + images.GetProperty("test").GetInt32());

        foreach (var plot in new[] { "roc.png", "precision-recall.png", "test-predictions.png" })
        {
            using var bitmap = SKBitmap.Decode(Path.Combine(output, plot));
            Assert.True(bitmap is { Width: > 500, Height: > 400 }, plot);
        }
        using (var first = SKBitmap.Decode(Directory.EnumerateFiles(Path.Combine(output, "synthetic", positive)).Order().First()))
            Assert.Equal((width, height), (first.Width, first.Height));

        // The predictor classifies the test images with the zip and the threshold in metrics.json, as the run did.
        var expected = File.ReadAllLines(Path.Combine(output, "test-predictions.csv")).Skip(1).Select(l => l.Split(','))
            .ToDictionary(f => Path.GetFileName(f[0]), f => (Probability: double.Parse(f[2], CultureInfo.InvariantCulture), Label: f[3]));
        var folder = Directory.CreateDirectory(Path.Combine(output, "to-classify")).FullName;
        foreach (var name in expected.Keys.Take(12))
        {
            var source = Directory.EnumerateFiles(Path.Combine(output, "synthetic"), name, SearchOption.AllDirectories).Single();
            File.Copy(source, Path.Combine(folder, name));
        }
        File.WriteAllText(Path.Combine(folder, "broken.png"), "not an image");
        using (var wide = new SKBitmap(width, height / 3))
        using (var encoded = SKImage.FromBitmap(wide).Encode(SKEncodedImageFormat.Png, 100))
            File.WriteAllBytes(Path.Combine(folder, "panorama.png"), encoded.ToArray());
        var csv = Path.Combine(output, "predictions.csv");
        var (predictorCode, predictorLog) = Run("ImagePredictor", "image-predictor", Path.Combine(output, "model.zip"), folder, "--out", csv);
        Assert.True(predictorCode == 0, predictorLog);
        Assert.Contains("broken.png", predictorLog);
        Assert.Contains("panorama.png", predictorLog);
        Assert.Contains("distort", predictorLog);
        var rows = File.ReadAllLines(csv);
        Assert.Equal("file,probability,label", rows[0]);
        Assert.Equal(13, rows.Length);
        foreach (var row in rows.Skip(1).Select(r => r.Split(',')))
        {
            var want = expected[Path.GetFileName(row[0])];
            Assert.Equal(want.Probability, double.Parse(row[1], CultureInfo.InvariantCulture), 5);
            Assert.Equal(want.Label, row[2]);
        }

        if (project == "Corrosion")
        {
            // The quantization benchmark on this finished run: its student and images, as it reads the full sample's.
            string json = Path.Combine(output, "quantization.json");
            Assert.Equal(0, Mtkd.Benchmarks.Program.Main(["quantization", "--quick", "--sample-out", output, "--json", json]));
            var report = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
            Assert.Equal(64, report.GetProperty("TestImages").GetInt32());
            Assert.True(report.GetProperty("BytesRatio").GetDouble() < 0.4); // 0.36 for this 5,090-weight student (README)
            var int8 = report.GetProperty("Variants")[1];
            Assert.Contains(int8.GetProperty("Kernels").EnumerateArray(), k => k.GetProperty("Op").GetString() == "QLinearConv");
            Assert.True(File.Exists(Path.Combine(output, "student.int8.onnx")));
        }
        Directory.Delete(output, recursive: true);
    }

    [Fact]
    public void Given_teacher_models_are_scored_instead_of_training_teachers()
    {
        var output = Directory.CreateTempSubdirectory("mtkd-given-teachers-").FullName;
        // Two untrained teachers of the right input shape: the run must use these two files and train none.
        var shape = new ImageDataset(new float[3 * 240 * 320], [0], 3, 240, 320, ["clean", "corrosion"]);
        var teachers = new List<string>();
        for (int k = 0; k < 2; k++)
        {
            using var network = NetworkTrainer.CreateNetwork(SampleNetworks.Teacher(4), shape, seed: k);
            teachers.Add(Path.Combine(output, $"given-{k}.onnx"));
            OnnxExporter.Export(network, teachers[^1]);
        }
        var (code, log) = Run("Corrosion", "corrosion-sample", "--images-per-class", "30", "--student-epochs", "2",
            "--teachers", string.Join(",", teachers), "--out", output);
        Assert.True(code == 0, log);
        Assert.DoesNotContain("teacher 1/", log);
        Assert.Contains("ensemble of 2", log);
        var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "metrics.json"))).RootElement;
        Assert.Equal(teachers, metrics.GetProperty("teachers").EnumerateArray().Select(t => t.GetProperty("file").GetString()));
        Assert.False(Directory.Exists(Path.Combine(output, "teachers")));
        Directory.Delete(output, recursive: true);
    }

    [Fact]
    public void Strict_runs_stop_at_an_unfit_image_and_name_it()
    {
        var data = Directory.CreateTempSubdirectory("mtkd-strict-").FullName;
        foreach (var (label, positive) in new[] { ("clean", false), ("corrosion", true) })
        {
            Directory.CreateDirectory(Path.Combine(data, label));
            for (int i = 0; i < 5; i++)
                File.WriteAllBytes(Path.Combine(data, label, $"{i}.png"), new SyntheticCorrosion().Draw(positive, i, 1, 240, 320).Encoded);
        }
        File.WriteAllText(Path.Combine(data, "corrosion", "scan.png"), "truncated");
        // The output folder sits inside the image folder on purpose: it must not be taken for a third class.
        var (code, log) = Run("Corrosion", "corrosion-sample", "--data", data, "--strict", "--out", Path.Combine(data, "out"));
        Assert.True(code == 1, log); // bad data, not a bad command line
        Assert.True(log.Contains("scan.png"), log);
        Assert.True(log.Contains("--strict"), log);
        Assert.Contains("scan.png", File.ReadAllText(Path.Combine(data, "out", "skipped.csv")));
        Directory.Delete(data, recursive: true);
    }

    [Fact]
    public void Unknown_options_are_refused_by_name()
    {
        var (code, log) = Run("Smoke", "smoke-sample", "--fast");
        Assert.Equal(2, code);
        Assert.Contains("'--fast'", log);
    }

    [Fact]
    public void Synthetic_images_are_the_same_for_the_same_seed_and_differ_between_images()
    {
        var corrosion = new SyntheticCorrosion();
        Assert.Equal(corrosion.Draw(true, 7, 1, 240, 320).Encoded, corrosion.Draw(true, 7, 1, 240, 320).Encoded);
        Assert.NotEqual(corrosion.Draw(true, 7, 1, 240, 320).Encoded, corrosion.Draw(true, 8, 1, 240, 320).Encoded);
        var smoke = new SyntheticSmoke();
        var (bytes, extension) = smoke.Draw(false, 3, 2, 180, 320);
        Assert.Equal(".jpg", extension);
        Assert.Equal(bytes, smoke.Draw(false, 3, 2, 180, 320).Encoded);
        Assert.NotEqual(bytes, smoke.Draw(false, 3, 3, 180, 320).Encoded);
    }

    private static (int Code, string Output) Run(string project, string assembly, params string[] arguments) =>
        SampleProcess.Run(Path.Combine("samples", project), assembly, arguments);
}
