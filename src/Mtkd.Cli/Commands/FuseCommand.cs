using System.CommandLine;
using Mtkd.Training.Fusion;
using Mtkd.Training.SoftLabels;
using Spectre.Console;

namespace Mtkd.Cli.Commands;

/// <summary><c>mtkd fuse</c>: the accuracy of each teacher and of every fusion method on a soft-label file.</summary>
internal static class FuseCommand
{
    public sealed record Row(string Model, double Accuracy);

    public sealed record Report(string File, int LabelledRows, string WeightsFrom, IReadOnlyList<double> Weights, IReadOnlyList<Row> Teachers, IReadOnlyList<Row> Methods);

    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "Soft-label file (Parquet, or CSV ending in .csv) with labels." };
        var weightsFrom = new Option<string?>("--weights-from") { Description = "Soft-label file of validation data to learn WeightedAverage's weights on (default: FILE itself)." };
        var json = new Option<string?>("--json") { Description = "Also write the accuracies as JSON to this file." };
        var command = new Command("fuse", "Print each teacher's accuracy and the accuracy of every ensemble fusion method.") { file, weightsFrom, json };
        command.SetAction(parse => CliErrors.Run(() => Run(parse.GetValue(file)!, parse.GetValue(weightsFrom), parse.GetValue(json))));
        return command;
    }

    private static int Run(string path, string? weightsFrom, string? json)
    {
        OutputChecks.FileIfGiven(json, "--json");
        var set = Labelled(SoftLabelFile.Read(path), path);
        int teachers = set.TeacherCount, classes = set.ClassCount;
        var validation = weightsFrom is null ? set : Labelled(SoftLabelFile.Read(weightsFrom), weightsFrom);
        if (validation.TeacherCount != teachers || validation.ClassCount != classes)
            throw new InvalidDataException($"{weightsFrom}: {validation.TeacherCount} teachers × {validation.ClassCount} classes; expected {teachers} × {classes} like {path}.");
        var weights = TeacherWeights.FromAccuracy(validation.Logits, validation.Labels, teachers, classes);

        var teacherRows = Enumerable.Range(0, teachers)
            .Select(t => new Row(set.Header.TeacherNames[t], SoftLabelAccuracy.Teacher(set.Logits, set.Labels, teachers, classes, t))).ToArray();
        var score = new float[classes];
        var methodRows = Enum.GetValues<FusionMethod>().Select(method =>
        {
            var fusion = new EnsembleFusion(method, teachers, classes, weights);
            int correct = 0;
            for (int i = 0; i < set.RowCount; i++)
                if (fusion.Fuse(set.Row(i), score) == set.Labels[i]) correct++;
            return new Row(method.ToString(), (double)correct / set.RowCount);
        }).ToArray();

        var table = new Table().Title($"{Markup.Escape(path)}: {set.RowCount:N0} labelled rows, {teachers} teachers, {classes} classes")
            .AddColumn("Model").AddColumn(new TableColumn("Accuracy").RightAligned());
        foreach (var row in teacherRows) table.AddRow(Markup.Escape(row.Model), $"{row.Accuracy * 100:0.00} %");
        table.AddEmptyRow();
        double best = methodRows.Max(r => r.Accuracy);
        foreach (var row in methodRows)
            table.AddRow(row.Accuracy == best ? $"[bold]{row.Model}[/]" : row.Model, row.Accuracy == best ? $"[bold]{row.Accuracy * 100:0.00} %[/]" : $"{row.Accuracy * 100:0.00} %");
        AnsiConsole.Write(table);
        string weightSource = weightsFrom ?? $"{path} (the evaluated file itself; pass --weights-from for held-out weights)";
        AnsiConsole.MarkupLine(Markup.Escape($"WeightedAverage weights ({string.Join(", ", weights.Select(w => w.ToString("0.000")))}) from {weightSource}."));
        JsonOutput.WriteIfAsked(json, new Report(path, set.RowCount, weightSource, weights, teacherRows, methodRows));
        return 0;
    }

    // Accuracy needs labels: rows without one are left out, and a file with none is refused.
    private static SoftLabelSet Labelled(SoftLabelSet set, string path)
    {
        if (set.IsFullyLabelled) return set;
        var keep = Enumerable.Range(0, set.RowCount).Where(i => set.Labels[i] >= 0).ToArray();
        if (keep.Length == 0)
            throw new InvalidDataException($"{path} has no labelled rows; fusion accuracy needs the label column.");
        return new SoftLabelSet(set.Header, keep.Select(i => set.RowIds[i]).ToArray(), keep.Select(i => set.Labels[i]).ToArray(),
            keep.SelectMany(i => set.Row(i).ToArray()).ToArray());
    }
}
