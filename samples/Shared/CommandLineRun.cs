using System.CommandLine;

namespace Mtkd.Samples.Shared;

/// <summary>
/// The conventions of the mtkd command for the study, the samples, the predictor and the benchmarks: errors on
/// stderr, one line each; exit code 2 for a command line that cannot work (unparsable, or an impossible value:
/// <see cref="ArgumentException"/>), 1 for data and files, 130 for a stop by Ctrl+C, 70 for a bug (its stack trace
/// with --verbose). Compiled as source into each program (like OnnxTiming.cs), which keeps them free of the CLI.
/// </summary>
internal static class CommandLineRun
{
    public const int DataError = 1, UsageError = 2, Bug = 70, Interrupted = 130;

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
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return UsageError;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or InvalidOperationException or NotSupportedException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return DataError;
        }
        catch (OperationCanceledException e)
        {
            Console.Error.WriteLine($"stopped: {e.Message}");
            return Interrupted;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"unexpected error ({e.GetType().Name}): {e.Message.Split('\n')[0]}");
            Console.Error.WriteLine(verbose ? e.ToString() : "This is a bug; rerun with --verbose for the stack trace, and report it.");
            return Bug;
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
