namespace Mtkd.Shared;

/// <summary>
/// Checks an output path before any work starts, so a bad --out fails in a second with its path and the cause named
/// (compiled as source into the mtkd command and the samples)
/// instead of after an epoch of training.
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
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{flag} {path} cannot be written: {Cause(path, e)}; give a folder you can write to.", e);
        }
    }

    /// <summary>A file the command writes (by temp file and rename): refused when it is a folder or its folder cannot be written.</summary>
    public static void File(string path, string flag)
    {
        if (Directory.Exists(path))
            throw new IOException($"{flag} {path} is a folder; give a file name.");
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"{flag} {path} cannot be written: {Cause(folder, null)}; create the folder first or give another path.");
        try
        {
            Probe(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{flag} {path} cannot be written: {Cause(folder, e)}; give a path you can write to.", e);
        }
    }

    /// <summary>Checks an optional output file (such as --json) when one was given.</summary>
    public static void FileIfGiven(string? path, string flag)
    {
        if (path is not null) File(path, flag);
    }

    private static void Probe(string folder)
    {
        string probe = Path.Combine(folder, $".mtkd-write-check-{Environment.ProcessId}.tmp");
        System.IO.File.WriteAllBytes(probe, []);
        System.IO.File.Delete(probe);
    }

    // The operating system's message names a temporary probe or a missing part of the path; users need the part at fault.
    // Walks up from the folder that should hold the output to the first part that exists.
    private static string Cause(string folder, Exception? error)
    {
        folder = Path.GetFullPath(folder);
        for (var part = folder; part is not null; part = Path.GetDirectoryName(part))
        {
            if (System.IO.File.Exists(part)) return $"{part} is a file, not a folder";
            if (Directory.Exists(part))
            {
                if (error is null) return $"{folder} does not exist";
                if (error is UnauthorizedAccessException) return $"permission denied in {part}";
                if (error is FileNotFoundException or DirectoryNotFoundException) return $"{part} does not allow new files or folders";
                return error.Message;
            }
        }
        return error?.Message ?? "no part of the path exists";
    }

    /// <summary>Accepts only <paramref name="values"/>, naming the flag in the refusal (System.CommandLine's own says only "Argument 'x'").</summary>
    public static void OneOf(System.CommandLine.Option<string> option, params string[] values) =>
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is { } value && !values.Contains(value))
                result.AddError($"{option.Name} '{value}': expected {string.Join(", ", values.SkipLast(1))} or {values[^1]}.");
        });
}
