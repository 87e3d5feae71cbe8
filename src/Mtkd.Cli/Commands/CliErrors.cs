using Spectre.Console;

namespace Mtkd.Cli.Commands;

/// <summary>
/// Turns the errors users cause (bad files, bad values) into one red line and exit code 1, not a stack trace; any
/// other exception is a bug in Mtkd: one line and exit code 70 (EX_SOFTWARE), the stack trace with --verbose.
/// </summary>
internal static class CliErrors
{
    /// <summary>Whether --verbose was given.</summary>
    public static bool Verbose { get; set; }

    public static int Run(Func<int> command)
    {
        try
        {
            return command();
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or InvalidDataException or ArgumentException
                                       or InvalidOperationException or NotSupportedException or IOException or UnauthorizedAccessException)
        {
            AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(ex.Message)}");
            return 1;
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            AnsiConsole.MarkupLine($"[red]unexpected error[/] ({Markup.Escape(ex.GetType().Name)}): {Markup.Escape(ex.Message.Split('\n')[0])}");
            if (Verbose)
                AnsiConsole.WriteLine(ex.ToString());
            else
                AnsiConsole.MarkupLine("This is a bug in Mtkd; rerun with --verbose for the stack trace, and report it.");
            return 70;
        }
    }
}
