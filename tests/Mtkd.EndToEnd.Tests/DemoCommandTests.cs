using System.Text.Json;
using Mtkd.Cli;

namespace Mtkd.EndToEnd.Tests;

[Trait("Category", "EndToEnd")] // a whole run (training, packing or a process); excluded by the fast filter
public sealed class DemoCommandTests
{
    [Fact]
    public void QuickDemoRunsTheWholeFlowAndWritesTheFigures()
    {
        var directory = Directory.CreateTempSubdirectory("mtkd-demo-").FullName;
        var json = Path.Combine(directory, "figures.json");

        int exitCode = Program.Main(["demo", "--quick", "--json", json, "--out", Path.Combine(directory, "out")]);

        Assert.Equal(0, exitCode);
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        var root = document.RootElement;
        var teachers = root.GetProperty("teachers").EnumerateArray().ToArray();
        Assert.Equal(3, teachers.Length);
        foreach (var teacher in teachers)
        {
            Assert.InRange(teacher.GetProperty("accuracy").GetDouble(), 0.3, 1.0); // chance is 0.1
            Assert.True(teacher.GetProperty("parameters").GetInt64() > 0);
        }
        Assert.InRange(root.GetProperty("ensemble").GetProperty("accuracy").GetDouble(), 0.3, 1.0);
        Assert.InRange(root.GetProperty("student").GetProperty("accuracy").GetDouble(), 0.15, 1.0);
        Assert.True(root.GetProperty("student").GetProperty("parameters").GetInt64() < teachers[0].GetProperty("parameters").GetInt64());
        // The label-trained baseline is the same network: same size, its own accuracy.
        Assert.Equal(root.GetProperty("student").GetProperty("parameters").GetInt64(), root.GetProperty("baseline").GetProperty("parameters").GetInt64());
        Assert.InRange(root.GetProperty("baseline").GetProperty("accuracy").GetDouble(), 0.15, 1.0);
        foreach (var file in new[] { "teacher-0.onnx", "teacher-2.onnx", "student.onnx", "student.zip", "report.json" })
            Assert.True(File.Exists(Path.Combine(directory, "out", file)), file);
        // The default setting, stated: few labels (500 of --quick's 2,000) and the rest unlabelled.
        Assert.Equal((2000, 500), (root.GetProperty("trainImages").GetInt32(), root.GetProperty("labeledImages").GetInt32()));
        Assert.StartsWith("Few labels, many images: 500 labelled and 1,500 unlabelled", root.GetProperty("setting").GetString());
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void Several_seeds_give_the_paired_gain_and_a_rerun_reuses_the_seeds_already_run()
    {
        var directory = Directory.CreateTempSubdirectory("mtkd-demo-seeds-").FullName;
        var output = Path.Combine(directory, "out");
        string[] arguments = ["demo", "--quick", "--seeds", "1", "2", "--out", output, "--json", Path.Combine(directory, "seeds.json")];

        Assert.Equal(0, Program.Main(arguments));
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, "seeds.json")));
        var seeds = document.RootElement.GetProperty("seeds").EnumerateArray().ToArray();
        Assert.Equal([1, 2], seeds.Select(s => s.GetProperty("seed").GetInt32()));
        var gains = seeds.Select(s => s.GetProperty("student").GetProperty("accuracy").GetDouble() - s.GetProperty("baseline").GetProperty("accuracy").GetDouble()).ToArray();
        var gain = document.RootElement.GetProperty("gain");
        Assert.Equal(gains.Average(), gain.GetProperty("mean").GetDouble(), 12);
        Assert.Equal(Math.Abs(gains[0] - gains[1]) / 2, gain.GetProperty("standardError").GetDouble(), 12); // SE of two paired differences
        Assert.NotEqual(seeds[0].GetProperty("student").GetProperty("accuracy").GetDouble(), seeds[1].GetProperty("student").GetProperty("accuracy").GetDouble());

        // Run again: both seeds' reports are reused (unchanged files), the summary is the same.
        var report = Path.Combine(output, "seed-1", "report.json");
        var written = File.GetLastWriteTimeUtc(report);
        var (code, said) = CliOutput.Capture(() => Program.Main(arguments));
        Assert.Equal(0, code);
        Assert.Contains("Seed 1: reusing", said);
        Assert.Equal(written, File.GetLastWriteTimeUtc(report));
        // Another setting is another run: the seed is not reused.
        Assert.Equal(0, Program.Main(["demo", "--quick", "--seeds", "1", "--alpha", "0.7", "--out", output]));
        Assert.NotEqual(written, File.GetLastWriteTimeUtc(report));
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void MissingDataGivesAClearErrorAndExitCode()
    {
        var directory = Directory.CreateTempSubdirectory("mtkd-demo-").FullName;

        int exitCode = Program.Main(["demo", "--quick", "--data", directory, "--out", Path.Combine(directory, "out")]);

        Assert.Equal(1, exitCode);
        Directory.Delete(directory, recursive: true);
    }
}
