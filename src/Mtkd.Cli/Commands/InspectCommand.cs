using Mtkd.Shared;
using System.CommandLine;
using Microsoft.ML.OnnxRuntime;
using Mtkd.Training.Onnx;
using Spectre.Console;

namespace Mtkd.Cli.Commands;

/// <summary><c>mtkd inspect</c>: what an ONNX model declares, and how Mtkd would run it as a teacher.</summary>
internal static class InspectCommand
{
    public sealed record Tensor(string Name, string ElementType, string Shape, string Note);

    public sealed record Report(string File, long Bytes, string Producer, long IrVersion, IReadOnlyDictionary<string, long> Opsets, long Parameters,
        long MultiplyAccumulates, int Nodes, IReadOnlyList<Tensor> Inputs, IReadOnlyList<Tensor> Outputs, IReadOnlyDictionary<string, string> Metadata, string OnnxRuntime);

    public sealed record Reports(IReadOnlyList<Report> Models, ModelFigures? Ensemble);

    public static Command Create()
    {
        var models = new Argument<string[]>("MODEL") { Description = "ONNX model files; several are also summed as an ensemble.", Arity = ArgumentArity.OneOrMore };
        var json = new Option<string?>("--json") { Description = "Also write the description as JSON to this file." };
        var command = new Command("inspect", "Print an ONNX model's inputs, outputs, shapes, layout guess, opset, parameters and multiply-accumulates.") { models, json };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            OutputChecks.FileIfGiven(parse.GetValue(json), "--json");
            var paths = parse.GetValue(models)!;
            var reports = paths.Select(Describe).ToArray();
            ModelFigures? ensemble = null;
            if (paths.Length > 1)
            {
                var members = paths.Select(ModelFigures.Of).ToArray();
                ensemble = ModelFigures.Ensemble(members);
                var table = new Table().AddColumn("Model").AddColumn(new TableColumn("Parameters").RightAligned())
                    .AddColumn(new TableColumn("MACs per image").RightAligned()).AddColumn(new TableColumn("Bytes").RightAligned());
                foreach (var m in members.Append(ensemble))
                    table.AddRow(Markup.Escape(m.Name), m.Parameters.ToString("N0"), m.MultiplyAccumulates.ToString("N0"), m.Bytes.ToString("N0"));
                AnsiConsole.Write(table);
            }
            JsonOutput.WriteIfAsked(parse.GetValue(json), new Reports(reports, ensemble));
            return 0;
        }));
        return command;
    }

    private static Report Describe(string path)
    {
        var info = OnnxModelInfo.Read(path);
        var inputs = info.Inputs.Select(i => Describe(i, InputNote(i))).ToArray();
        var outputs = info.Outputs.Select(o => Describe(o, info.IsProbabilityOutput(o.Name) ? "probabilities (comes out of a Softmax)" : "logits")).ToArray();
        string runtime = TryLoad(path);

        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]File[/]", Markup.Escape($"{path} ({new FileInfo(path).Length:N0} bytes)"));
        grid.AddRow("[bold]Producer[/]", Markup.Escape(info.Producer.Length > 0 ? info.Producer : "(not recorded)"));
        grid.AddRow("[bold]IR version[/]", info.IrVersion.ToString());
        grid.AddRow("[bold]Opsets[/]", Markup.Escape(string.Join(", ", info.Opsets.Select(o => $"{o.Key} {o.Value}"))));
        grid.AddRow("[bold]Parameters[/]", $"{info.ParameterCount:N0} in {info.NodeCount:N0} nodes (every floating-point initializer, batch-norm statistics included)");
        grid.AddRow("[bold]MACs per image[/]", Markup.Escape(info.Cost.Uncounted.Count == 0 ? info.Cost.MultiplyAccumulates.ToString("N0")
            : $"at least {info.Cost.MultiplyAccumulates:N0} ({string.Join(", ", info.Cost.Uncounted)} not counted)"));
        grid.AddRow("[bold]ONNX Runtime[/]", Markup.Escape(runtime));
        AnsiConsole.Write(grid);

        var table = new Table().AddColumn("").AddColumn("Name").AddColumn("Type").AddColumn("Shape").AddColumn("Mtkd reads it as");
        foreach (var i in inputs) table.AddRow("input", Markup.Escape(i.Name), i.ElementType, Markup.Escape(i.Shape), Markup.Escape(i.Note));
        foreach (var o in outputs) table.AddRow("output", Markup.Escape(o.Name), o.ElementType, Markup.Escape(o.Shape), Markup.Escape(o.Note));
        AnsiConsole.Write(table);
        foreach (var (key, value) in info.Metadata)
            AnsiConsole.MarkupLine($"[grey]metadata[/] {Markup.Escape(key)} = {Markup.Escape(value.Length > 100 ? value[..100] + "…" : value)}");

        return new Report(path, new FileInfo(path).Length, info.Producer, info.IrVersion, info.Opsets, info.ParameterCount,
            info.Cost.MultiplyAccumulates, info.NodeCount, inputs, outputs, info.Metadata, runtime);
    }

    private static Tensor Describe(OnnxTensorInfo t, string note) =>
        new(t.Name, t.ElementType, $"[{string.Join(", ", t.Shape.Select((d, i) => d?.ToString() ?? t.DimensionNames[i] ?? "?"))}]", note);

    private static string InputNote(OnnxTensorInfo input)
    {
        if (input.Shape.Count < 2 || input.Shape.Skip(1).Any(d => d is null))
            return "not usable as a teacher input (needs [batch, known sizes…])";
        var guess = ImageLayoutGuess.FromShape(input.Shape.Skip(1).Select(d => d!.Value).ToArray());
        return guess.Layout switch
        {
            ImageLayout.Flat => "flat input, fed as it is",
            _ when guess.Ambiguous => $"{guess.Layout} (ambiguous shape: set the layout if this is wrong)",
            _ => guess.Layout.ToString(),
        };
    }

    private static string TryLoad(string path)
    {
        try
        {
            using var session = new InferenceSession(path);
            return "loads";
        }
        catch (OnnxRuntimeException ex)
        {
            return $"does not load: {ex.Message.Split('\n')[0]}";
        }
    }
}
