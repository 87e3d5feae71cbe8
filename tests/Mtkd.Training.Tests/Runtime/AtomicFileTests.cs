using System.Diagnostics;
using Mtkd.Training;

namespace Mtkd.Training.Tests.Runtime;

/// <summary>A write is whole or absent, and a writer killed mid-write (kill -9) leaves nothing that outlives the next write.</summary>
public sealed class AtomicFileTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-atomic-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void The_next_write_removes_the_temporary_file_of_a_killed_writer_and_keeps_a_live_ones()
    {
        using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        gone.WaitForExit();
        var stale = Path.Combine(directory, $".out.csv.{gone.Id}.tmp");
        File.WriteAllText(stale, "half a file");
        using var live = Process.GetCurrentProcess().Parent();
        var other = Path.Combine(directory, $".out.csv.{live?.Id ?? 1}.tmp"); // a running process's write in progress
        File.WriteAllText(other, "being written");
        var unrelated = Path.Combine(directory, ".other.csv.1.tmp");
        File.WriteAllText(unrelated, "another file's");

        AtomicFile.WriteAllText(Path.Combine(directory, "out.csv"), "a,b\n");

        Assert.Equal("a,b\n", File.ReadAllText(Path.Combine(directory, "out.csv")));
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(other));
        Assert.True(File.Exists(unrelated));
    }

    [Fact]
    public void A_soft_label_file_written_again_removes_what_a_killed_score_left()
    {
        using var gone = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        gone.WaitForExit();
        var stale = Path.Combine(directory, $".train.csv.{gone.Id}.tmp");
        File.WriteAllText(stale, "index,label");
        var header = new Mtkd.Training.SoftLabels.SoftLabelHeader(1, 2, ["t"], ["a", "b"]);
        using (Mtkd.Training.SoftLabels.SoftLabelWriter.Create(Path.Combine(directory, "train.csv"), header))
            Assert.False(File.Exists(stale));
    }
}

internal static class ProcessParent
{
    /// <summary>The parent process (Linux: from /proc), or null where it cannot be read.</summary>
    public static Process? Parent(this Process process)
    {
        var stat = $"/proc/{process.Id}/stat";
        if (!File.Exists(stat)) return null;
        var fields = File.ReadAllText(stat);
        var afterName = fields[(fields.LastIndexOf(')') + 2)..].Split(' ');
        return int.TryParse(afterName[1], out int parent) ? Process.GetProcessById(parent) : null;
    }
}
