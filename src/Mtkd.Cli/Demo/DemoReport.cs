using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mtkd.Cli.Demo;

/// <summary>Accuracy and size of one model on the test images.</summary>
public sealed record ModelFigures(string Name, double Accuracy, long Parameters);

/// <summary>The ensemble's accuracy (mean of the teachers' probabilities) and its total size.</summary>
public sealed record EnsembleFigures(string Method, double Accuracy, long Parameters);

/// <summary>The figures `mtkd demo` prints and writes with --json.</summary>
public sealed record DemoReport(
    IReadOnlyList<ModelFigures> Teachers,
    EnsembleFigures Ensemble,
    ModelFigures Student,
    ModelFigures Baseline,
    int TrainImages,
    int TestImages,
    IReadOnlyDictionary<string, double> StageSeconds,
    double TotalSeconds)
{
    /// <summary>Labelled training images; the others trained unlabelled.</summary>
    public int LabeledImages { get; init; }

    /// <summary>The setting, in a sentence (few labels and many images, or every image labelled).</summary>
    public string? Setting { get; init; }

    public int Seed { get; init; }

    /// <summary>Every setting that shapes the figures, so that a multi-seed run reuses a seed's report only when nothing changed.</summary>
    public string? Configuration { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The report in a file, or null when there is none or it cannot be read.</summary>
    public static DemoReport? TryRead(string path)
    {
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<DemoReport>(File.ReadAllText(path), Json) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
