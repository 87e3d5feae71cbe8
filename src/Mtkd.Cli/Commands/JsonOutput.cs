using System.Text.Json;
using Mtkd.Training;
using Spectre.Console;

namespace Mtkd.Cli.Commands;

/// <summary>The machine-readable copy of what a command printed, written with --json.</summary>
internal static class JsonOutput
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static void WriteIfAsked(string? path, object value)
    {
        if (path is null) return;
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(value, value.GetType(), Options));
        AnsiConsole.MarkupLine($"Figures written to [blue]{Markup.Escape(path)}[/].");
    }
}
