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
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);
}
