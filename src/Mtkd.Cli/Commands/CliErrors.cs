using Mtkd.Shared;
using Spectre.Console;

namespace Mtkd.Cli.Commands;

/// <summary>
/// Turns the errors users cause into one red line on stderr, not a stack trace, with the exit code of
/// <see cref="ExitCodes"/>. A stop by Ctrl+C or SIGTERM says where the run stopped; any other exception is a bug in
/// Mtkd: one line, the stack trace with --verbose.
/// </summary>
internal static class CliErrors
{
    public const int DataError = ExitCodes.DataError, UsageError = ExitCodes.UsageError, Bug = ExitCodes.Bug, Interrupted = ExitCodes.Interrupted;

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
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            int code = ExitCodes.For(ex);
            if (code == Interrupted)
                Error.MarkupLine($"[yellow]stopped:[/] {Markup.Escape(ExitCodes.Message(ex))}");
            else if (code != Bug)
                Error.MarkupLine($"[red]error:[/] {Markup.Escape(ExitCodes.Message(ex))}");
            else
            {
                Error.MarkupLine($"[red]unexpected error[/] ({Markup.Escape(ex.GetType().Name)}): {Markup.Escape(ex.Message.Split('\n')[0])}");
                if (Verbose)
                    Error.WriteLine(ex.ToString());
                else
                    Error.MarkupLine("This is a bug in Mtkd; rerun with --verbose for the stack trace, and report it.");
            }
            return code;
        }
    }
}
