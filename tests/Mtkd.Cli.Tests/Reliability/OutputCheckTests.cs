using Mtkd.Cli;

namespace Mtkd.Cli.Tests.Reliability;

/// <summary>
/// Outputs are checked before any work, and a user's mistake is one line naming the path and the fix, never a stack
/// trace (issue 16, fault 4); a real bug is one line and exit code 70, its stack trace behind --verbose.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // permissions are set with Unix file modes
public sealed class OutputCheckTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-outputs-").FullName;

    public void Dispose()
    {
        foreach (var folder in Directory.EnumerateDirectories(directory, "*", SearchOption.AllDirectories))
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.Delete(directory, recursive: true);
    }

    private string PathOf(params string[] parts) => Path.Combine([directory, .. parts]);

    private string Teacher()
    {
        var path = PathOf("teacher.onnx");
        if (!File.Exists(path))
            File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(TeacherVariants.Base(channels: 1, size: 28, classes: 10)));
        return path;
    }

    private static (int Code, string Said) Run(params string[] arguments) => CliOutput.Capture(() => Program.Main(arguments));

    // Each bad output, the part of the message that names its cause. 50 epochs: a check after training would time the test out.
    public static TheoryData<string, string> BadOutputs() => new()
    {
        { "a file as the output folder", "is a file; give a folder" },
        { "a folder as the output file", "is a folder; give a file name" },
        { "a folder under a file", "is a file, not a folder" },
        { "a file in a missing folder", "does not exist; create the folder first" },
        { "a folder where nothing may be created", "/proc does not allow new files or folders" },
        { "a --json file where nothing may be created", "--json /proc/mtkd.json cannot be written" },
    };

    [Theory]
    [MemberData(nameof(BadOutputs))]
    public void A_bad_output_is_refused_in_every_command_before_any_work_and_leaves_existing_files_alone(string bad, string named)
    {
        File.WriteAllText(PathOf("taken"), "keep me");
        string teacher = Teacher();
        string folderOut = bad switch
        {
            "a file as the output folder" => PathOf("taken"),
            "a folder under a file" => PathOf("taken", "sub"),
            "a folder where nothing may be created" => "/proc/mtkd-out",
            _ => PathOf("fine"),
        };
        string fileOut = bad switch
        {
            "a folder as the output file" => directory,
            "a folder under a file" => PathOf("taken", "soft.parquet"),
            "a file in a missing folder" => PathOf("missing", "soft.parquet"),
            "a folder where nothing may be created" => "/proc/mtkd.parquet",
            _ => PathOf("fine.parquet"),
        };
        string[] json = bad.StartsWith("a --json", StringComparison.Ordinal) ? ["--json", "/proc/mtkd.json"] : [];

        var commands = new List<string[]>();
        if (folderOut != PathOf("fine") || json.Length > 0)
        {
            commands.Add(["distill", "--teacher", teacher, "--quick", "--epochs", "50", "--out", folderOut, .. json]);
            commands.Add(["teachers", "--quick", "--epochs", "50", "--out", folderOut, .. json]);
        }
        if (fileOut != PathOf("fine.parquet") || json.Length > 0)
        {
            commands.Add(["score", "--teacher", teacher, "--split", "test", "--out", fileOut, .. json]);
            if (json.Length == 0) commands.Add(["export", PathOf("no-checkpoint"), "--out", fileOut.Replace(".parquet", ".onnx", StringComparison.Ordinal)]);
        }
        if (json.Length > 0)
        {
            commands.Add(["evaluate", teacher, .. json]);
            commands.Add(["inspect", teacher, .. json]);
        }
        Assert.NotEmpty(commands);
        foreach (var arguments in commands)
        {
            var (code, said) = Run(arguments);
            Assert.True(code == 1, $"mtkd {string.Join(' ', arguments)} exited {code}: {said}");
            Assert.Contains(named, said);
            Assert.DoesNotContain("   at ", said);
            Assert.DoesNotContain("epoch 1", said); // refused before training
        }
        Assert.Equal("keep me", File.ReadAllText(PathOf("taken")));
        Assert.Empty(Directory.GetFiles(directory, ".mtkd-write-check-*", SearchOption.AllDirectories));
        Assert.False(Directory.Exists(PathOf("fine")));
    }

    [Fact]
    public void A_read_only_folder_is_refused_naming_the_folder()
    {
        // Root writes into a read-only folder anyway (CI runs as root): there the /proc case above stands in for it.
        var folder = Directory.CreateDirectory(PathOf("read-only")).FullName;
        File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        bool enforced;
        try
        {
            File.WriteAllText(Path.Combine(folder, "probe"), "");
            File.Delete(Path.Combine(folder, "probe"));
            enforced = false;
        }
        catch (UnauthorizedAccessException)
        {
            enforced = true;
        }
        var (code, said) = Run("score", "--teacher", Teacher(), "--split", "test", "--out", Path.Combine(folder, "soft.parquet"));
        if (enforced)
        {
            Assert.Equal(1, code);
            Assert.Contains($"permission denied in {folder}", said);
        }
        else
        {
            Assert.Equal(0, code); // as root the write succeeds, as it should
        }
    }

    [Fact]
    public void A_truncated_or_foreign_model_zip_is_one_line_without_a_stack_trace()
    {
        File.WriteAllBytes(PathOf("model.zip"), [0x50, 0x4B, 0x03, 0x04, 1, 2, 3, 4, 5, 6, 7, 8]); // a zip's magic, then nothing
        File.WriteAllText(PathOf("notes.zip"), "not a zip at all");
        foreach (var name in new[] { "model.zip", "notes.zip" })
        {
            var (code, said) = Run("evaluate", PathOf(name));
            Assert.Equal(1, code);
            Assert.Contains($"{PathOf(name)} is not a readable ML.NET model zip", said);
            Assert.DoesNotContain("   at ", said);
            Assert.Single(said.Trim().Split('\n'));
        }
    }

    [Fact]
    public void A_bug_is_one_line_and_exit_code_70_with_its_stack_trace_only_under_verbose()
    {
        static int Bug() => throw new NullReferenceException("something was null");
        var (code, output) = CliOutput.Capture(() => Mtkd.Cli.Commands.CliErrors.Run(Bug));
        Assert.Equal(70, code);
        Assert.Contains("unexpected error (NullReferenceException): something was null", output);
        Assert.Contains("--verbose", output);
        Assert.DoesNotContain("   at ", output);
        Mtkd.Cli.Commands.CliErrors.Verbose = true;
        try
        {
            var (_, verbose) = CliOutput.Capture(() => Mtkd.Cli.Commands.CliErrors.Run(Bug));
            Assert.Contains("   at ", verbose);
        }
        finally
        {
            Mtkd.Cli.Commands.CliErrors.Verbose = false;
        }
        var (usage, said) = CliOutput.Capture(() => Mtkd.Cli.Commands.CliErrors.Run(() => throw new ArgumentException("--lr -1 is negative")));
        Assert.Equal(2, usage);
        Assert.Contains("error: --lr -1 is negative", said);
    }

    [Fact]
    public void A_second_run_on_a_folder_in_use_is_refused_naming_the_holder_and_the_lock_goes_with_the_run()
    {
        var folder = Path.Combine(directory, "busy");
        string[] distill = ["distill", "--method", "labels", "--quick", "--epochs", "1", "--out", folder];
        using (Mtkd.Cli.Commands.OutputLock.Acquire(folder, "a test holding it"))
        {
            var (code, said) = CliOutput.Capture(() => Program.Main(distill));
            Assert.Equal(1, code);
            Assert.Contains($"is in use by process {Environment.ProcessId} (a test holding it, since", said);
            Assert.False(File.Exists(Path.Combine(folder, "student.onnx")));
        }
        Assert.Equal(0, CliOutput.Capture(() => Program.Main(distill)).Code);
        Assert.Empty(Directory.EnumerateFiles(folder, ".mtkd.lock*"));
    }
}
