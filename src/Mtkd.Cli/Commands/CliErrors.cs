using Spectre.Console;

namespace Mtkd.Cli.Commands;

/// <summary>Turns the errors users cause (bad files, bad values) into one red line and exit code 1, not a stack trace.</summary>
internal static class CliErrors
{
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
    }
}
