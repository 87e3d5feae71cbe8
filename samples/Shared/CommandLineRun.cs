using System.CommandLine;
using Mtkd.Shared;

namespace Mtkd.Samples.Shared;

/// <summary>
/// The conventions of the mtkd command for the study, the samples, the predictor and the benchmarks: errors on
/// stderr, one line each, with the exit codes of <see cref="ExitCodes"/> (a bug's stack trace with --verbose). Compiled as source into each program (like OnnxTiming.cs), which keeps them
/// free of the CLI.
/// </summary>
internal static class CommandLineRun
{
    public const int DataError = ExitCodes.DataError, UsageError = ExitCodes.UsageError, Bug = ExitCodes.Bug, Interrupted = ExitCodes.Interrupted;

    /// <summary>Parses <paramref name="args"/> against <paramref name="root"/> and runs the chosen action.</summary>
    public static int Invoke(RootCommand root, string[] args)
    {
        root.Options.Add(new Option<bool>("--verbose") { Description = "Print the stack trace of an unexpected error (a bug), not just its message.", Recursive = true });
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine("Run with --help for the usage.");
            return UsageError;
        }
        bool verbose = args.Contains("--verbose");
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            int code = ExitCodes.For(e);
            if (code == Interrupted)
                Console.Error.WriteLine($"stopped: {ExitCodes.Message(e)}");
            else if (code != Bug)
                Console.Error.WriteLine($"error: {ExitCodes.Message(e)}");
            else
            {
                Console.Error.WriteLine($"unexpected error ({e.GetType().Name}): {e.Message.Split('\n')[0]}");
                Console.Error.WriteLine(verbose ? e.ToString() : "This is a bug; rerun with --verbose for the stack trace, and report it.");
            }
            return code;
        }
    }

    /// <summary>A whole-number flag value that must be positive, refused by flag otherwise.</summary>
    public static int Positive(int value, string flag) =>
        value > 0 ? value : throw new ArgumentException($"{flag} {value}: expected a positive whole number.");

    /// <summary>A comma-separated list of positive whole numbers, as --seeds 1,2,3 takes.</summary>
    public static int[] PositiveInts(string text, string flag) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(v => int.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int n) && n > 0
            ? n : throw new ArgumentException($"{flag} expects positive whole numbers separated by commas; got '{v}'."))
        .ToArray();
}
