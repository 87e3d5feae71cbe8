using Spectre.Console;

namespace Mtkd.Cli.Commands;

/// <summary>
/// Turns the errors users cause into one red line on stderr, not a stack trace: exit code 2 for a command line that
/// asks for something impossible (a bad or conflicting flag value: <see cref="ArgumentException"/>), 1 for data and
/// files (missing, damaged, unwritable). A stop by Ctrl+C or SIGTERM says where the run stopped (exit code 130); any
/// other exception is a bug in Mtkd: one line and exit code 70 (EX_SOFTWARE), the stack trace with --verbose.
/// </summary>
internal static class CliErrors
{
    public const int DataError = 1, UsageError = 2, Bug = 70, Interrupted = 130;

    /// <summary>Whether --verbose was given.</summary>
    public static bool Verbose { get; set; }

    /// <summary>Where errors go: stderr, so a command's output can be piped while its errors are still seen.</summary>
    public static IAnsiConsole Error { get; set; } = CreateErrorConsole();

    private static IAnsiConsole CreateErrorConsole()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        if (Console.IsErrorRedirected)
            console.Profile.Width = 10_000; // a log or a pipe gets each message on one line, not wrapped at 80 columns
        return console;
    }

    public static int Run(Func<int> command)
    {
        try
        {
            return command();
        }
        catch (ArgumentException ex)
        {
            Error.MarkupLine($"[red]error:[/] {Markup.Escape(ex.Message)}");
            return UsageError;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or InvalidDataException
                                       or InvalidOperationException or NotSupportedException or IOException or UnauthorizedAccessException)
        {
            Error.MarkupLine($"[red]error:[/] {Markup.Escape(ex.Message)}");
            return DataError;
        }
        catch (OperationCanceledException ex)
        {
            Error.MarkupLine($"[yellow]stopped:[/] {Markup.Escape(ex.Message)}");
            return Interrupted;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Error.MarkupLine($"[red]unexpected error[/] ({Markup.Escape(ex.GetType().Name)}): {Markup.Escape(ex.Message.Split('\n')[0])}");
            if (Verbose)
                Error.WriteLine(ex.ToString());
            else
                Error.MarkupLine("This is a bug in Mtkd; rerun with --verbose for the stack trace, and report it.");
            return Bug;
        }
    }
}
