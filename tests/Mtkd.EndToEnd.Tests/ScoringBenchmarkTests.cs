using System.Text.Json;

namespace Mtkd.EndToEnd.Tests;

/// <summary>
/// Keeps the scoring benchmark runnable: its quick profile on 512 real images. The speed targets themselves are
/// checked by running the benchmark (see README), never by a timed test.
/// </summary>
[Trait("Category", "EndToEnd")] // a whole run (training, packing or a process); excluded by the fast filter
public sealed class ScoringBenchmarkTests
{
    [Fact]
    public void Quick_profile_runs_and_every_method_gives_the_same_logits()
    {
        var json = Path.Combine(Directory.CreateTempSubdirectory("mtkd-bench-test-").FullName, "bench.json");
        Assert.Equal(0, Mtkd.Benchmarks.Program.Main(["scoring", "--quick", "--json", json]));
        var report = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal(512, report.GetProperty("Images").GetInt32());
        foreach (var method in report.GetProperty("Methods").EnumerateArray())
        {
            Assert.True(method.GetProperty("ImagesPerSecond").GetDouble() > 0);
            Assert.True(method.GetProperty("MaxDifferenceFromBare").GetDouble() < 1e-4, method.GetProperty("Name").GetString());
        }
        Directory.Delete(Path.GetDirectoryName(json)!, recursive: true);
    }

    [Fact]
    public void Distillation_benchmark_quick_profile_runs()
    {
        var json = Path.Combine(Directory.CreateTempSubdirectory("mtkd-bench-test-").FullName, "bench.json");
        Assert.Equal(0, Mtkd.Benchmarks.Program.Main(["distillation", "--quick", "--json", json]));
        var report = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal(1000, report.GetProperty("Images").GetInt32());
        Assert.True(report.GetProperty("MtkdImagesPerSecond").GetDouble() > 0);
        Assert.Equal(3, report.GetProperty("ResidentMegabytesPerEpoch").GetArrayLength());
        // Online teaching costs the teachers' passes plus the student's step: never less than the passes alone.
        Assert.True(report.GetProperty("Online").GetProperty("Ratio").GetDouble() > 1, report.GetProperty("Online").ToString());
        // The PyTorch twin ran each of the three loops on the same 512 images.
        var pytorch = report.GetProperty("PyTorch");
        Assert.Equal(512, pytorch.GetProperty("Images").GetInt32());
        var loops = pytorch.GetProperty("Loops").EnumerateArray().ToArray();
        Assert.Equal(3, loops.Length);
        Assert.All(loops, l => Assert.True(l.GetProperty("PyTorchImagesPerSecond").GetDouble() > 0 && l.GetProperty("Ratio").GetDouble() > 0, l.ToString()));
        Directory.Delete(Path.GetDirectoryName(json)!, recursive: true);
    }

    [Fact]
    public void Cotraining_benchmark_quick_profile_runs_both_methods_against_their_members()
    {
        var json = Path.Combine(Directory.CreateTempSubdirectory("mtkd-bench-cotrain-").FullName, "cotrain.json");
        Assert.Equal(0, Mtkd.Benchmarks.Program.Main(["cotraining", "--quick", "--json", json]));
        var methods = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("Methods").EnumerateArray().ToArray();
        Assert.Equal([2, 5], methods.Select(m => m.GetProperty("Members").GetArrayLength()));
        Assert.All(methods, m => Assert.Equal(m.GetProperty("Members").EnumerateArray().Sum(x => x.GetProperty("AloneSeconds").GetDouble()),
            m.GetProperty("AloneSecondsSum").GetDouble(), 9));
        Directory.Delete(Path.GetDirectoryName(json)!, recursive: true);
    }

    [Fact]
    public void Quantization_benchmark_quick_profile_runs_on_a_given_student()
    {
        var folder = Directory.CreateTempSubdirectory("mtkd-bench-int8-").FullName;
        var train = Mtkd.Training.Data.FashionMnist.Load(Mtkd.Training.Data.DataSplit.Train).Take(500);
        using (var network = Mtkd.Training.Engine.NetworkTrainer.CreateNetwork(Mtkd.Training.Networks.NetworkPresets.Get(Mtkd.Training.Networks.NetworkPresets.CnnSmall), train, seed: 1))
        {
            Mtkd.Training.Engine.NetworkTrainer.TrainSupervised(network, train, new Mtkd.Training.Engine.TrainerOptions { Epochs = 2 });
            Mtkd.Training.Onnx.OnnxExporter.Export(network, Path.Combine(folder, "student.onnx"));
        }
        string json = Path.Combine(folder, "int8.json");
        Assert.Equal(0, Mtkd.Benchmarks.Program.Main(["quantization", "--quick", "--model", Path.Combine(folder, "student.onnx"), "--json", json]));
        var report = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal(500, report.GetProperty("TestImages").GetInt32());
        var variants = report.GetProperty("Variants").EnumerateArray().ToArray();
        Assert.Equal(4, variants.Length); // float, int8 min/max and percentile, int8 with the first convolution float
        Assert.All(variants, v => Assert.True(v.GetProperty("Milliseconds1Thread").GetDouble() > 0));
        Assert.True(variants[1].GetProperty("Bytes").GetInt64() < variants[0].GetProperty("Bytes").GetInt64());
        Assert.InRange(report.GetProperty("AccuracyDropPoints").GetDouble(), -3, 3);
        Assert.True(File.Exists(Path.Combine(folder, "student.int8.onnx")));
        Assert.Equal(1, Mtkd.Benchmarks.Program.Main(["quantization", "--quick", "--model", Path.Combine(folder, "absent.onnx")]));
        // A --sample-out that holds a student but no images the sample drew is refused before anything is drawn into it.
        Assert.Equal(1, Mtkd.Benchmarks.Program.Main(["quantization", "--quick", "--sample-out", folder]));
        Assert.False(Directory.Exists(Path.Combine(folder, "synthetic")));
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public void Bad_command_lines_exit_2_and_missing_files_1_as_mtkd_does()
    {
        Assert.Equal(2, Mtkd.Benchmarks.Program.Main(["scoring", "--images", "zero"])); // not a number
        Assert.Equal(2, Mtkd.Benchmarks.Program.Main(["scoring", "--images", "0"]));    // not positive
        Assert.Equal(2, Mtkd.Benchmarks.Program.Main(["distillation", "--memory-epochs", "1"]));
        Assert.Equal(2, Mtkd.Benchmarks.Program.Main(["memory", "videos"]));
        Assert.Equal(2, Mtkd.Benchmarks.Program.Main([]));
        Assert.Equal(1, Mtkd.Benchmarks.Program.Main(["scoring", "--quick", "--teachers", "/nonexistent/teacher.onnx"]));
    }

    [Fact]
    public void Memory_benchmark_quick_profiles_run_and_reuse_the_photo_cache()
    {
        var folder = Directory.CreateTempSubdirectory("mtkd-bench-memory-").FullName;
        var json = Path.Combine(folder, "photos.json");
        Assert.Equal(0, Mtkd.Benchmarks.Program.Main(["memory", "photos", "--quick", "--folder", folder, "--json", json]));
        var first = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal(64, first.GetProperty("Photos").GetInt32());
        Assert.False(first.GetProperty("CacheReused").GetBoolean());
        Assert.Equal(0, Mtkd.Benchmarks.Program.Main(["memory", "photos", "--quick", "--folder", folder, "--json", json]));
        Assert.True(JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("CacheReused").GetBoolean()); // the drawn photos and their cache stay

        // The fashion-mnist part refuses to compare unless the cache reads the in-memory loader's pixels bit for bit.
        Assert.Equal(0, Mtkd.Benchmarks.Program.Main(["memory", "fashion-mnist", "--quick", "--folder", folder, "--json", Path.Combine(folder, "fmnist.json")]));
        var fmnist = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "fmnist.json"))).RootElement;
        Assert.Equal(2048, fmnist.GetProperty("Images").GetInt32());
        Directory.Delete(folder, recursive: true);
    }
}
