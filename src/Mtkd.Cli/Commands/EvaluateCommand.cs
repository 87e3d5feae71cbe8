using Mtkd.Shared;
using System.CommandLine;
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Mtkd.MLNet;
using Mtkd.MLNet.Data;
using Mtkd.MLNet.Scoring;
using Mtkd.Training.Data;
using Mtkd.Training.Onnx;
using Spectre.Console;

namespace Mtkd.Cli.Commands;

/// <summary><c>mtkd evaluate</c>: accuracy, per-class precision and recall, the confusion matrix, latency and size of a model.</summary>
internal static class EvaluateCommand
{
    public sealed record ClassRow(string Class, double Precision, double Recall, int Support);

    public sealed record Report(string Model, string Split, int Images, double Accuracy, IReadOnlyList<ClassRow> Classes, int[][] ConfusionMatrix,
        double MillisecondsPerImageAtBatch1, double ImagesPerSecondAtBatch256, ModelFigures? Figures, ModelFigures? Ensemble)
    {
        /// <summary>"int8" for a quantized ONNX model, "float32" for another, "ML.NET zip" for a zip.</summary>
        public string Weights { get; init; } = "float32";
    }

    public static Command Create()
    {
        var model = new Argument<string[]>("MODEL") { Description = "A student or teacher: an ONNX file, or an ML.NET model zip; several (such as a " +
            "student and its int8 model) are each evaluated on the same images and compared.", Arity = ArgumentArity.OneOrMore };
        var data = new DataFlags();
        var split = new Option<string>("--split") { Description = "train, val or test.", DefaultValueFactory = _ => "test" };
        OutputChecks.OneOf(split, "train", "val", "test");
        var teachers = new Option<string[]>("--teacher") { Description = "Teacher ONNX files, to set the model's size against the ensemble's." };
        var json = new Option<string?>("--json") { Description = "Also write the figures as JSON to this file." };
        var command = new Command("evaluate", "Accuracy, per-class precision and recall, confusion matrix, latency and size of a model.") { model, split, teachers, json };
        data.AddTo(command);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var paths = parse.GetValue(model)!;
            OutputChecks.FileIfGiven(parse.GetValue(json), "--json");
            foreach (var path in paths)
                if (!File.Exists(path)) throw new FileNotFoundException($"Model not found: {path}", path);
            var images = data.Request(parse, paths).Load(parse.GetValue(split)!);
            if (images.HasUnlabeled)
                throw new ArgumentException($"Evaluation needs labels; {images.Count - images.LabeledCount:N0} of the {images.Count:N0} {parse.GetValue(split)} images have none.");
            var teacherPaths = parse.GetValue(teachers) ?? [];
            var ensemble = teacherPaths.Length > 0 ? ModelFigures.Ensemble(teacherPaths.Select(ModelFigures.Of).ToArray()) : null;
            var reports = paths.Select(path =>
            {
                var report = Evaluate(path, parse.GetValue(split)!, images, ensemble);
                Print(report, images.ClassNames);
                return report;
            }).ToArray();
            if (reports.Length > 1) Compare(reports);
            // One model: its report, as before; several: the list.
            if (reports.Length == 1) JsonOutput.WriteIfAsked(parse.GetValue(json), reports[0]);
            else JsonOutput.WriteIfAsked(parse.GetValue(json), reports);
            return 0;
        }));
        return command;
    }

    private static Report Evaluate(string path, string split, ImageDataset images, ModelFigures? ensemble)
    {
        bool zip = path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase);
        var (predicted, throughput) = zip ? PredictWithMlNet(path, images) : PredictWithOnnx(path, images);
        double latency = zip ? ZipLatency(path, images) : OnnxLatency(path, images);
        var figures = zip ? null : ModelFigures.Of(path);
        string weights = zip ? "ML.NET zip" : OnnxModelInfo.Read(path).IsInt8 ? "int8" : "float32";
        return Summarise(path, split, images, predicted, latency, throughput, figures, ensemble) with { Weights = weights };
    }

    // Side by side against the first model: accuracy, batch-1 latency and file size (a float student and its int8 model, say).
    private static void Compare(IReadOnlyList<Report> reports)
    {
        var first = reports[0];
        var table = new Table().Title($"Against {Markup.Escape(first.Model)}").AddColumn("Model").AddColumn("Weights")
            .AddColumn(new TableColumn("Accuracy").RightAligned()).AddColumn(new TableColumn("Δ points").RightAligned())
            .AddColumn(new TableColumn("ms at batch 1").RightAligned()).AddColumn(new TableColumn("× latency").RightAligned())
            .AddColumn(new TableColumn("Bytes").RightAligned()).AddColumn(new TableColumn("× bytes").RightAligned());
        foreach (var r in reports)
            table.AddRow(Markup.Escape(r.Model), r.Weights, $"{r.Accuracy * 100:0.00} %", $"{(r.Accuracy - first.Accuracy) * 100:+0.00;-0.00;0.00}",
                $"{r.MillisecondsPerImageAtBatch1:0.000}", $"{r.MillisecondsPerImageAtBatch1 / first.MillisecondsPerImageAtBatch1:0.00}",
                r.Figures is { } f ? f.Bytes.ToString("N0") : "", r.Figures is { } g && first.Figures is { } h ? $"{(double)g.Bytes / h.Bytes:0.00}" : "");
        AnsiConsole.Write(table);
    }

    // ONNX models go through ScoreTeachers, which accepts any layout, output name or probability output.
    private static (int[] Predicted, double ImagesPerSecond) PredictWithOnnx(string path, ImageDataset images)
    {
        TeacherFiles.CheckFit([path], images);
        var ml = new MLContext(seed: 1);
        var view = images.ToDataView(ml);
        using var scorer = ml.Transforms.ScoreTeachers([path], batchSize: 256).Fit(view);
        var clock = Stopwatch.StartNew();
        var logits = scorer.Transform(view).GetColumn<float[]>(TeacherColumns.Logits).ToArray();
        double seconds = clock.Elapsed.TotalSeconds;
        return (logits.Select(ArgMax).ToArray(), images.Count / seconds);
    }

    private static (int[] Predicted, double ImagesPerSecond) PredictWithMlNet(string path, ImageDataset images)
    {
        var ml = new MLContext(seed: 1);
        var model = LoadZip(ml, path);
        var view = images.ToDataView(ml);
        var clock = Stopwatch.StartNew();
        var keys = model.Transform(view).GetColumn<uint>("PredictedLabel").ToArray();
        double seconds = clock.Elapsed.TotalSeconds;
        return (keys.Select(k => (int)k - 1).ToArray(), images.Count / seconds);
    }

    // ML.NET reports a truncated or foreign zip as a chain of FormatException and TargetInvocationException.
    private static ITransformer LoadZip(MLContext ml, string path)
    {
        try
        {
            return ml.Model.Load(path, out _);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            var inner = ex;
            while (inner.InnerException is not null) inner = inner.InnerException;
            throw new InvalidDataException($"{path} is not a readable ML.NET model zip ({inner.Message.Split('\n')[0]}); save one with mlContext.Model.Save, or give the .onnx file.", ex);
        }
    }

    private static double OnnxLatency(string path, ImageDataset images)
    {
        using var session = new InferenceSession(path);
        var input = session.InputMetadata.First();
        var shape = input.Value.Dimensions.Select(d => (long)(d > 0 ? d : 1)).ToArray();
        using var runOptions = new RunOptions();
        return Median(Enumerable.Range(0, 200).Select(i =>
        {
            using var value = OrtValue.CreateTensorValueFromMemory(images.ReadImage(i % images.Count), shape);
            var clock = Stopwatch.StartNew();
            using var outputs = session.Run(runOptions, [input.Key], [value], [session.OutputMetadata.Keys.First()]);
            return clock.Elapsed.TotalMilliseconds;
        }).Skip(20).ToArray()); // the first runs include ONNX Runtime's lazy start-up
    }

    private sealed class Row
    {
        [VectorType] public float[] Features { get; set; } = [];
    }

    private sealed class Prediction
    {
        public uint PredictedLabel { get; set; }
    }

    private static double ZipLatency(string path, ImageDataset images)
    {
        var ml = new MLContext(seed: 1);
        var model = LoadZip(ml, path);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, images.ImageSize);
        var engine = ml.Model.CreatePredictionEngine<Row, Prediction>(model, inputSchemaDefinition: schema);
        return Median(Enumerable.Range(0, 200).Select(i =>
        {
            var row = new Row { Features = images.ReadImage(i % images.Count) };
            var clock = Stopwatch.StartNew();
            engine.Predict(row);
            return clock.Elapsed.TotalMilliseconds;
        }).Skip(20).ToArray());
    }

    private static Report Summarise(string path, string split, ImageDataset images, int[] predicted, double latency, double throughput,
        ModelFigures? figures, ModelFigures? ensemble)
    {
        int classes = images.ClassCount;
        var confusion = Enumerable.Range(0, classes).Select(_ => new int[classes]).ToArray(); // [true][predicted]
        for (int i = 0; i < images.Count; i++)
            if (predicted[i] >= 0 && predicted[i] < classes) confusion[images.Labels[i]][predicted[i]]++;
        var rows = Enumerable.Range(0, classes).Select(c =>
        {
            int truePositives = confusion[c][c], predictedAs = confusion.Sum(r => r[c]), actual = confusion[c].Sum();
            return new ClassRow(images.ClassNames[c], predictedAs == 0 ? 0 : (double)truePositives / predictedAs, actual == 0 ? 0 : (double)truePositives / actual, actual);
        }).ToArray();
        double accuracy = Enumerable.Range(0, classes).Sum(c => confusion[c][c]) / (double)images.Count;
        return new Report(path, split, images.Count, accuracy, rows, confusion, latency, throughput, figures, ensemble);
    }

    private static void Print(Report r, IReadOnlyList<string> classNames)
    {
        AnsiConsole.MarkupLine(Markup.Escape($"{r.Model} on {r.Images:N0} {r.Split} images: accuracy {r.Accuracy * 100:0.00} %; " +
            $"{r.MillisecondsPerImageAtBatch1:0.000} ms per image at batch 1 (median of 180), {r.ImagesPerSecondAtBatch256:N0} images/s " +
            (r.Model.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) ? "through ML.NET (row by row)." : "at batch 256.")));
        var classes = new Table().AddColumn("Class").AddColumn(new TableColumn("Precision").RightAligned())
            .AddColumn(new TableColumn("Recall").RightAligned()).AddColumn(new TableColumn("Images").RightAligned());
        foreach (var c in r.Classes) classes.AddRow(Markup.Escape(c.Class), $"{c.Precision * 100:0.0} %", $"{c.Recall * 100:0.0} %", c.Support.ToString("N0"));
        AnsiConsole.Write(classes);
        var matrix = new Table().Title("Confusion matrix (rows: true class, columns: predicted)").AddColumn("");
        for (int c = 0; c < classNames.Count; c++) matrix.AddColumn(new TableColumn(c.ToString()).RightAligned());
        for (int t = 0; t < classNames.Count; t++)
            matrix.AddRow([$"{t} {Markup.Escape(classNames[t])}", .. r.ConfusionMatrix[t].Select(v => v.ToString())]);
        AnsiConsole.Write(matrix);
        if (r.Figures is { } f)
        {
            AnsiConsole.MarkupLine(Markup.Escape($"Size: {f.Parameters:N0} parameters, {f.MultiplyAccumulates:N0} MACs per image, {f.Bytes:N0} bytes." + (f.Note.Length > 0 ? $" ({f.Note})" : "")));
            if (r.Ensemble is { } e)
                AnsiConsole.MarkupLine(Markup.Escape($"Against the {e.Name}: {e.Parameters:N0} parameters ({(double)e.Parameters / f.Parameters:0.0}× more), " +
                    $"{e.MultiplyAccumulates:N0} MACs ({(double)e.MultiplyAccumulates / f.MultiplyAccumulates:0.0}× more), {e.Bytes:N0} bytes ({(double)e.Bytes / f.Bytes:0.0}× more)."));
        }
    }

    private static int ArgMax(float[] row)
    {
        int best = 0;
        for (int c = 1; c < row.Length; c++) if (row[c] > row[best]) best = c;
        return best;
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        return values[values.Length / 2];
    }
}
