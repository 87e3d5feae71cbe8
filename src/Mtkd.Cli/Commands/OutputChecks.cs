namespace Mtkd.Cli.Commands;

/// <summary>
/// Checks an output path before any work starts, so a bad --out fails in a second with its path named instead
/// of after an epoch of training.
/// </summary>
internal static class OutputChecks
{
    /// <summary>A folder the command writes into: created if absent; refused when it is a file or cannot be written.</summary>
    public static void Folder(string path, string flag)
    {
        if (System.IO.File.Exists(path))
            throw new IOException($"{flag} {path} is a file; give a folder for the outputs (it is created if missing).");
        try
        {
            Directory.CreateDirectory(path);
            Probe(path);
        }
        catch (UnauthorizedAccessException)
        {
            throw new IOException($"{flag} {path}: permission denied; give a folder you can write to.");
        }
    }

    /// <summary>A file the command writes (by temp file and rename): refused when it is a folder or its folder cannot be written.</summary>
    public static void File(string path, string flag)
    {
        if (Directory.Exists(path))
            throw new IOException($"{flag} {path} is a folder; give a file name.");
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"{flag} {path}: folder {folder} does not exist.");
        try
        {
            Probe(folder);
        }
        catch (UnauthorizedAccessException)
        {
            throw new IOException($"{flag} {path}: permission denied in {folder}; give a path you can write to.");
        }
    }

    private static void Probe(string folder)
    {
        string probe = Path.Combine(folder, $".mtkd-write-check-{Environment.ProcessId}.tmp");
        System.IO.File.WriteAllBytes(probe, []);
        System.IO.File.Delete(probe);
    }
}
