using Mtkd.Shared;
using System.CommandLine;
using Mtkd.Training.Fusion;
using Mtkd.Training.Onnx;
using Mtkd.Training.SoftLabels;
using Mtkd.Training.Teachers;
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
        var export = new Option<string?>("--export") { Description = "Also write the ensemble as one ONNX model: the --teacher models (those FILE was scored with) " +
            "merged and fused by --method; it runs in any ONNX Runtime and is accepted as a teacher." };
        var teachers = new Option<string[]>("--teacher") { Description = "With --export: a teacher ONNX model, in FILE's teacher order; repeat for each." };
        var method = new Option<FusionMethod>("--method") { Description = "With --export: the fusion (MeanProbability, MeanLogit, Product, MaxConfidence or " +
            "WeightedAverage, whose weights come from --weights-from or FILE).", DefaultValueFactory = _ => FusionMethod.MeanProbability };
        var command = new Command("fuse", "Print each teacher's accuracy and the accuracy of every ensemble fusion method; --export writes the ensemble as one ONNX model.")
        {
            file, weightsFrom, json, export, teachers, method,
        };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            string? exportPath = parse.GetValue(export);
            var teacherPaths = parse.GetValue(teachers) ?? [];
            if (exportPath is null && (teacherPaths.Length > 0 || parse.GetResult(method) is { Implicit: false }))
                throw new ArgumentException("--teacher and --method are for --export: give --export ensemble.onnx to write the ensemble.");
            if (exportPath is not null)
            {
                OutputChecks.File(exportPath, "--export");
                if (teacherPaths.Length == 0)
                    throw new ArgumentException("--export merges the teachers' models: give each as --teacher A.onnx, in the soft-label file's teacher order.");
                try
                {
                    OnnxEnsemble.CheckWritable(parse.GetValue(method)); // before any file is read
                }
                catch (ArgumentException e)
                {
                    throw new ArgumentException($"--method {parse.GetValue(method)}: {e.Message}", e);
                }
            }
            return Run(parse.GetValue(file)!, parse.GetValue(weightsFrom), parse.GetValue(json), exportPath, teacherPaths, parse.GetValue(method));
        }));
        return command;
    }

    private static int Run(string path, string? weightsFrom, string? json, string? exportPath, string[] teacherPaths, FusionMethod exportMethod)
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
        if (exportPath is not null)
        {
            var models = teacherPaths.Select(TeacherModel.FromFile).ToArray();
            using (var loaded = OnnxTeachers.Load(models))
                if (loaded.TeacherCount != teachers || loaded.ClassCount != classes)
                    throw new InvalidDataException($"The --teacher models are {loaded.TeacherCount} teachers × {loaded.ClassCount} classes; {path} holds {teachers} × {classes}. " +
                        "Give the models the file was scored with, in its order.");
            OnnxEnsemble.Merge(models, exportPath, new OnnxEnsembleOptions
            {
                Fusion = exportMethod, Weights = exportMethod == FusionMethod.WeightedAverage ? weights : null, ClassNames = set.Header.ClassNames,
            });
            AnsiConsole.MarkupLine(Markup.Escape($"Wrote {exportPath}: {teachers} {(teachers == 1 ? "teacher" : "teachers")} fused by {exportMethod} " +
                $"({methodRows.Single(r => r.Model == exportMethod.ToString()).Accuracy * 100:0.00} % on {path}), {new FileInfo(exportPath).Length:N0} bytes; " +
                "outputs probabilities, logits and teacher_logits."));
        }
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
