namespace Mtkd.Tests;

/// <summary>What an in-process <c>mtkd</c> command prints (it writes through Spectre.Console), with its exit code.</summary>
internal static class CliOutput
{
    public static (int Code, string Output) Capture(Func<int> run)
    {
        var writer = new StringWriter();
        var (previous, previousError) = (Spectre.Console.AnsiConsole.Console, Mtkd.Cli.Commands.CliErrors.Error);
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Out = new Spectre.Console.AnsiConsoleOutput(writer), Ansi = Spectre.Console.AnsiSupport.No, ColorSystem = Spectre.Console.ColorSystemSupport.NoColors,
        });
        console.Profile.Width = 10_000; // one message, one line
        Spectre.Console.AnsiConsole.Console = console;
        Mtkd.Cli.Commands.CliErrors.Error = console; // errors go to stderr; here both land in the one writer
        try
        {
            return (run(), writer.ToString());
        }
        finally
        {
            (Spectre.Console.AnsiConsole.Console, Mtkd.Cli.Commands.CliErrors.Error) = (previous, previousError);
        }
    }
}
