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
