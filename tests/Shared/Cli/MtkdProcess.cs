using System.Diagnostics;

namespace Mtkd.Tests;

/// <summary>The built <c>mtkd</c> run as a separate process, for checks of what a shell sees: streams and exit codes.</summary>
internal static class MtkdProcess
{
    public static string Dll()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var path = Path.Combine(SampleProcess.RepositoryRoot(), "src", "Mtkd.Cli", "bin", configuration, "net10.0", "mtkd.dll");
        Assert.True(File.Exists(path), $"{path} is missing; build Mtkd.sln");
        return path;
    }

    public static (int Code, string Output, string Error) Run(params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo("dotnet", [Dll(), .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.Result);
    }
}
