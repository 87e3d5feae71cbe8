using Mtkd.Training.Onnx;

namespace Mtkd.Cli.Commands;

/// <summary>Size and cost of one model, or of an ensemble summed over its members, from the ONNX graphs.</summary>
internal sealed record ModelFigures(string Name, long Parameters, long MultiplyAccumulates, long Bytes, string Note)
{
    public static ModelFigures Of(string path)
    {
        var info = OnnxModelInfo.Read(path);
        string note = info.Cost.Uncounted.Count == 0 ? "" : $"MACs are a lower bound: {string.Join(", ", info.Cost.Uncounted)} not counted";
        return new ModelFigures(path, info.ParameterCount, info.Cost.MultiplyAccumulates, new FileInfo(path).Length, note);
    }

    public static ModelFigures Ensemble(IReadOnlyList<ModelFigures> members) =>
        new($"ensemble of {members.Count}", members.Sum(m => m.Parameters), members.Sum(m => m.MultiplyAccumulates), members.Sum(m => m.Bytes),
            string.Join("; ", members.Select(m => m.Note).Where(n => n.Length > 0).Distinct()));
}
