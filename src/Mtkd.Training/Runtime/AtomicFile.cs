namespace Mtkd.Training;

/// <summary>
/// Writes files so that a crash or a bad input never leaves a half-written file in place of a good one: the content
/// goes to a temporary file beside the target, which is then renamed over it. For apps that save a fitted model
/// (<c>AtomicFile.Write(path, s =&gt; mlContext.Model.Save(model, schema, s))</c>) or a report.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes to a temporary file beside <paramref name="path"/>, then renames it over the target.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        RemoveLeftovers(directory, Path.GetFileName(path));
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = File.Create(temp))
                write(stream);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Writes <paramref name="bytes"/> whole, or leaves the old file as it was.</summary>
    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, s => s.Write(bytes));

    /// <summary>Writes <paramref name="text"/> (UTF-8) whole, or leaves the old file as it was.</summary>
    public static void WriteAllText(string path, string text) => Write(path, s =>
    {
        using var writer = new StreamWriter(s);
        writer.Write(text);
    });

    // A writer killed mid-write (kill -9) leaves its ".NAME.PID.tmp" behind; the next write of NAME removes those whose
    // process is gone. A live writer's file is left alone.
    internal static void RemoveLeftovers(string directory, string name)
    {
        foreach (var file in Directory.EnumerateFiles(directory, $".{name}.*.tmp"))
        {
            var pid = Path.GetFileName(file)[(name.Length + 2)..^4];
            if (IsOrphan(pid))
                File.Delete(file);
        }
    }

    /// <summary>Whether <paramref name="processId"/>, the process id a scratch file's name carries (here and in PixelFileWriter), names no running process.</summary>
    internal static bool IsOrphan(string processId) =>
        int.TryParse(processId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id) && !IsRunning(id);

    /// <summary>Whether a process of that id is running.</summary>
    private static bool IsRunning(int processId)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
