using System.Diagnostics;

namespace Mtkd.Tests;

/// <summary>Runs an app of this repository (a sample, the consumer) as a separate process, as its README runs it.</summary>
internal static class SampleProcess
{
    /// <summary>Runs <c>dotnet ASSEMBLY.dll ARGS</c> from the project's build output (built beside the tests, in the same configuration).</summary>
    public static (int Code, string Output) Run(string projectFolder, string assembly, params string[] arguments)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var path = Path.Combine(RepositoryRoot(), projectFolder, "bin", configuration, "net10.0", assembly + ".dll");
        Assert.True(File.Exists(path), $"{path} is missing; build Mtkd.sln");
        var start = new ProcessStartInfo("dotnet", [path, .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }

    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Mtkd.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Mtkd.sln not found above the test directory.");
    }
}
