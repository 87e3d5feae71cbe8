using System.Diagnostics;

namespace Mtkd.Cli.Tests.Reliability;

/// <summary>
/// mtkd as a process, as a shell or a scheduler sees it (issue 16, fault 6): errors on stderr, exit code 2 for a
/// command line that cannot work, 1 for bad data, and a stop by SIGINT or SIGTERM that says where the run stopped,
/// leaves a complete checkpoint and resumes when the command is run again.
/// </summary>
public sealed class CommandLineConventionTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-conventions-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static (int Code, string Output, string Error) Run(params string[] arguments) => MtkdProcess.Run(arguments);

    [Fact]
    public void Usage_errors_exit_2_data_errors_exit_1_and_both_go_to_stderr()
    {
        var unknown = Run("score", "--no-such-flag");
        Assert.Equal(2, unknown.Code);
        Assert.Contains("--no-such-flag", unknown.Error);
        Assert.DoesNotContain("error", unknown.Output);

        var value = Run("distill", "--lr", "NaN", "--teacher", "x.onnx", "--out", Path.Combine(directory, "d"));
        Assert.Equal(2, value.Code);
        Assert.Contains("error:", value.Error);
        Assert.Empty(value.Output.Trim());

        var data = Run("inspect", Path.Combine(directory, "absent.onnx"));
        Assert.Equal(1, data.Code);
        Assert.Contains("absent.onnx", data.Error);
    }

    [Trait("Category", "EndToEnd")]
    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public void A_signal_stops_training_between_steps_says_where_and_the_rerun_resumes(string signal)
    {
        string output = Path.Combine(directory, $"student-{signal}");
        string[] arguments = ["teachers", "--quick", "--count", "1", "--epochs", "1", "--method", "snapshot", "--out", Path.Combine(directory, "t")];
        Assert.Equal(0, Run(arguments).Code);
        string[] distill = ["distill", "--teacher", Path.Combine(directory, "t", "teacher-0.onnx"), "--quick", "--epochs", "500", "--out", output];

        string current = Path.Combine(output, "checkpoints", "current");
        var (code, error) = RunUntilThenSignal(distill, () => File.Exists(current), signal);
        Assert.Equal(130, code);
        Assert.Contains("stopped:", error);
        Assert.Contains("rerun it with the same settings to resume", error);
        Assert.True(File.Exists(Path.Combine(output, "checkpoints", "current")));

        var (again, resumed) = RunUntilThenSignal(distill, () => File.Exists(current), signal, waitForOutput: "Resuming from the checkpoint");
        Assert.Equal(130, again);
        Assert.Contains("Resuming from the checkpoint", resumed);
    }

    [Trait("Category", "EndToEnd")]
    [Fact]
    public void A_signal_stops_scoring_leaving_no_output_and_no_temporary_file()
    {
        string teacher = Path.Combine(directory, "teacher.onnx");
        File.WriteAllBytes(teacher, Google.Protobuf.MessageExtensions.ToByteArray(TeacherVariants.Base(channels: 1, size: 28, classes: 10)));
        string[] teachers = Enumerable.Repeat(new[] { "--teacher", teacher }, 16).SelectMany(t => t).ToArray(); // long enough to be stopped
        string output = Path.Combine(directory, "soft.parquet");
        var (code, error) = RunUntilThenSignal(["score", .. teachers, "--split", "train", "--out", output],
            () => Directory.EnumerateFiles(directory, ".soft.parquet.*").Any(), "INT");
        Assert.Equal(130, code);
        Assert.Contains("stopped: scoring stopped after", error);
        Assert.Contains("was not written", error);
        Assert.Equal(["teacher.onnx"], Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName));
    }

    [Trait("Category", "EndToEnd")]
    [Fact]
    public void A_signal_while_the_pool_of_views_is_drawn_exits_130_and_leaves_no_scratch_file()
    {
        string teacher = Path.Combine(directory, "teacher.onnx");
        File.WriteAllBytes(teacher, Google.Protobuf.MessageExtensions.ToByteArray(TeacherVariants.Base(channels: 1, size: 28, classes: 10)));
        string scratch = Directory.CreateDirectory(Path.Combine(directory, "tmp")).FullName; // the run's TMPDIR: its scratch files land here
        string output = Path.Combine(directory, "pool");
        // 100 views of 2,000 images: a pool of 627 MB, seconds to draw.
        var (code, said) = RunUntilThenSignal(["distill", "--teacher", teacher, "--quick", "--views", "100", "--shift", "2", "--out", output],
            () => Directory.EnumerateFiles(scratch, "mtkd-pixels-*").Any(), "INT", environment: $"TMPDIR={scratch}");
        Assert.Equal(130, code);
        Assert.Contains("stopped:", said);
        Assert.Contains("while drawing the pool of views", said);
        Assert.Empty(Directory.EnumerateFiles(scratch, "mtkd-*")); // (the dotnet host writes a .ses file of its own there)
    }

    // Starts mtkd, waits until ready (a committed checkpoint, a file being written) and the text, sends the signal, and returns the exit code and all output.
    private static (int Code, string Output) RunUntilThenSignal(string[] arguments, Func<bool> ready, string signal, string? waitForOutput = null, string? environment = null)
    {
        // env --default-signal: a test run started in the background (nohup … &, as CI scripts do) inherits SIGINT
        // ignored, which would reach mtkd ignored too; a user's shell in the foreground does not do that.
        string[] variables = environment is null ? [] : [environment];
        using var process = Process.Start(new ProcessStartInfo("env", ["--default-signal=INT,TERM", .. variables, "dotnet", MtkdProcess.Dll(), .. arguments])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        var output = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var clock = Stopwatch.StartNew();
        bool Ready() { lock (output) return ready() && (waitForOutput is null || output.ToString().Contains(waitForOutput, StringComparison.Ordinal)); }
        while (!Ready() && !process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3)) Thread.Sleep(50);
        Assert.False(process.HasExited, $"mtkd ended before it could be stopped: {output}");
        using (var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "mtkd did not stop after the signal");
        process.WaitForExit(); // flushes the redirected streams
        lock (output) return (process.ExitCode, output.ToString());
    }
}
