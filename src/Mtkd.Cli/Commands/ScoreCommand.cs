using Mtkd.Shared;
using Mtkd.Training.Onnx;
using System.CommandLine;
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet;
using Mtkd.MLNet.Data;
using Mtkd.MLNet.Scoring;
using Mtkd.MLNet.SoftLabels;
using Mtkd.Training.Data;
using Mtkd.Training.SoftLabels;
using Spectre.Console;
using Mtkd.Training.Teachers;

namespace Mtkd.Cli.Commands;

/// <summary><c>mtkd score</c>: runs the teachers over a dataset and writes the soft labels.</summary>
internal static class ScoreCommand
{
    public sealed record Report(string Output, string Data, string Split, int Rows, int Teachers, int Classes, int TopK, double Seconds,
        double ImagesPerSecond, long FileBytes, double BytesPerRow, IReadOnlyList<TeacherDescription> TeacherDetails);

    public static Command Create()
    {
        var teachers = new Option<string[]>("--teacher") { Description = "A teacher ONNX model; repeat for each teacher.", AllowMultipleArgumentsPerToken = false };
        var shard = new Option<string?>("--shard") { Description = "Score shard I of N (every N-th block of rows from block I) into a Parquet part: " +
            "I/N, or auto/N for JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm)." };
        var merge = new Option<string[]>("--merge") { Description = "Join the Parquet parts of a sharded run by index into --out (instead of scoring), " +
            "refusing gaps and overlaps.", AllowMultipleArgumentsPerToken = true };
        var data = new DataFlags();
        var split = new Option<string>("--split") { Description = "Which split to score: train, val or test.", DefaultValueFactory = _ => "train" };
        OutputChecks.OneOf(split, "train", "val", "test");
        var output = new Option<string>("--out") { Description = "Soft-label file to write: Parquet, or CSV when it ends in .csv.", Required = true };
        var batch = new Option<int>("--batch-size") { Description = "Rows per ONNX Runtime call.", DefaultValueFactory = _ => 256 };
        var topK = new Option<int>("--top-k") { Description = "Keep only the k largest logits per teacher (Parquet only); 0 keeps all.", DefaultValueFactory = _ => 0 };
        var threads = new Option<int?>("--threads") { Description = "ONNX Runtime intra-op threads (default: one per core)." };
        var gpu = new Option<int?>("--gpu") { Description = "CUDA device id; falls back to the CPU when CUDA is unavailable." };
        var json = new Option<string?>("--json") { Description = "Also write the figures as JSON to this file." };

        var command = new Command("score", "Score teacher ONNX models over a dataset in batches and write the soft labels (per-teacher logits).")
        {
            teachers, split, output, batch, topK, threads, gpu, json, shard, merge,
        };
        data.AddTo(command);
        command.SetAction((parse, cancellation) => Task.FromResult(CliErrors.Run(() =>
        {
            var teacherPaths = parse.GetValue(teachers) ?? [];
            var parts = parse.GetValue(merge) ?? [];
            OutputChecks.File(parse.GetValue(output)!, "--out");
            OutputChecks.FileIfGiven(parse.GetValue(json), "--json");
            if (parts.Length > 0)
            {
                if (teacherPaths.Length > 0 || parse.GetValue(shard) is not null)
                    throw new ArgumentException("--merge joins parts that are already scored: give no --teacher or --shard with it.");
                var merged = ScoreShards.Merge(parts, parse.GetValue(output)!, parse.GetValue(topK));
                AnsiConsole.MarkupLine(Markup.Escape($"Merged {parts.Length} parts into {parse.GetValue(output)}: {merged.RowCount:N0} rows, {merged.TeacherCount} teachers."));
                return 0;
            }
            if (teacherPaths.Length == 0)
                throw new ArgumentException("Give the teachers as --teacher A.onnx --teacher B.onnx …, or parts to join as --merge PART … .");
            var shardOf = parse.GetValue(shard) is { } text ? ScoreShards.Parse(text) : (ScoreShards.Shard?)null;
            return Run(teacherPaths, data.Request(parse, teacherPaths, cancellation), parse.GetValue(split)!, parse.GetValue(output)!, parse.GetValue(batch),
                parse.GetValue(topK), parse.GetValue(threads), parse.GetValue(gpu), parse.GetValue(json), shardOf, cancellation);
        })));
        return command;
    }

    private static int Run(string[] teacherPaths, DataRequest data, string split, string output, int batchSize, int topK, int? threads, int? gpu, string? json,
        ScoreShards.Shard? shard, CancellationToken cancellation)
    {
        string directory = data.Source.Location;
        // Unlabelled images have no class names of their own: they take the teachers'.
        var images = data.Load(split, data.Source.ClassNames.Count > 0 ? null : TeacherClassNames(teacherPaths));
        bool csv = output.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);
        if (shard is not null && csv)
            throw new ArgumentException($"--shard writes Parquet parts for --merge; '{output}' ends in .csv.");
        int[]? shardRows = shard is { } sh ? ScoreShards.Rows(images.Count, sh, ScoreShards.BatchesPerBlock * batchSize) : null;
        if (shardRows is not null) images = images.Subset(shardRows);
        TeacherFiles.CheckFit(teacherPaths, images);
        var ml = new MLContext(seed: 1);
        var view = images.ToDataView(ml);
        using var stopOnSignal = cancellation.Register(ml.CancelExecution); // scoring stops before its next batch
        using var scorer = ml.Transforms.ScoreTeachers(new TeacherScoringEstimator.Options
        {
            Teachers = teacherPaths.Select(TeacherModel.FromFile).ToArray(),
            BatchSize = batchSize,
            IntraOpThreads = threads,
            GpuDeviceId = gpu,
            FallbackToCpu = true, // --gpu says it falls back, with the reason in the table
        }).Fit(view);

        // Teachers from mtkd teachers record the rows they trained on; the file keeps them so distill can go out-of-bag.
        var trainingRows = split == "train" && !csv ? teacherPaths.Select(TrainingRowSet.FromOnnx).ToArray() : null;
        // Specialists are scored as one unified teacher, which has no training rows of its own (each trained on all of them).
        var keptRows = trainingRows?.Any(r => r is not null) == true && trainingRows.Length == scorer.TeacherCount ? trainingRows : null;
        var clock = Stopwatch.StartNew();
        SoftLabelFileSummary summary;
        try
        {
            summary = shardRows is null
                ? ml.Data.SaveAsSoftLabels(scorer.Transform(view), output, new SoftLabelSaveOptions { TopK = topK, TeacherTrainingRows = keptRows })
                : WritePart(scorer, view, images, shardRows, output, topK, keptRows);
        }
        catch (OperationCanceledException e)
        {
            throw new OperationCanceledException($"scoring stopped after {clock.Elapsed.TotalSeconds:0.0} s; {output} was not written (a file already " +
                $"there is unchanged). Run the same command again to score.", e);
        }
        double seconds = clock.Elapsed.TotalSeconds;

        var table = new Table().AddColumn("Teacher").AddColumn("Input").AddColumn("Output").AddColumn(new TableColumn("Classes").RightAligned()).AddColumn("Runs on");
        foreach (var t in scorer.TeacherDescriptions)
            table.AddRow(Markup.Escape(t.Name), Markup.Escape($"{t.InputName} [{string.Join("×", t.ImageShape)}] {t.InputLayout}{(t.LayoutWasAmbiguous ? " (guessed)" : "")}"),
                Markup.Escape($"{t.OutputName} ({t.OutputKind})"), t.ClassCount.ToString(), Markup.Escape(t.ExecutionProvider));
        AnsiConsole.Write(table);
        double perSecond = summary.RowCount / seconds;
        AnsiConsole.MarkupLine($"Scored {summary.RowCount:N0} images with {summary.TeacherCount} teachers in {seconds:0.00} s: [bold]{perSecond:N0} images/s[/] (scoring and writing).");
        AnsiConsole.MarkupLine($"Wrote [blue]{Markup.Escape(output)}[/]: {summary.FileBytes:N0} bytes, [bold]{summary.BytesPerRow:0.0} bytes per " +
            $"row[/]{(summary.TopK > 0 ? $" (top-{summary.TopK})" : topK > 0 ? $" (every logit: --top-k {topK} is not below the {summary.ClassCount} classes)" : "")}.");
        if (keptRows is not null)
            AnsiConsole.MarkupLine($"Kept the training rows of {keptRows.Count(r => r is not null)} of {keptRows.Length} teachers (for mtkd distill --out-of-bag).");
        if (shard is { } done)
            AnsiConsole.MarkupLine($"Shard {done.Index} of {done.Count}: join the parts with mtkd score --merge PART … --out FILE.");
        JsonOutput.WriteIfAsked(json, new Report(output, directory, split, (int)summary.RowCount, summary.TeacherCount, summary.ClassCount, summary.TopK, seconds,
            perSecond, summary.FileBytes, summary.BytesPerRow, scorer.TeacherDescriptions));
        return 0;
    }

    // The class names a teacher of all the classes records; else the specialists' together (each names its own classes, then "other").
    private static IReadOnlyList<string> TeacherClassNames(string[] teacherPaths)
    {
        string?[]? assembled = null;
        foreach (var path in teacherPaths)
        {
            var info = OnnxModelInfo.Read(path);
            if (!info.Metadata.TryGetValue("class_names", out var json) || System.Text.Json.JsonSerializer.Deserialize<string[]>(json) is not { Length: > 0 } names)
                continue;
            if (SpecialistClasses.Of(info) is not { } classes)
                return names;
            assembled ??= new string?[classes.ClassCount];
            for (int j = 0; j < classes.Classes.Count && j < names.Length; j++) assembled[classes.Classes[j]] = names[j];
        }
        if (assembled is not null && assembled.All(n => n is not null))
            return assembled!;
        throw new ArgumentException($"The data has no labels and {teacherPaths[0]} records no class names (metadata 'class_names'); score labelled data, or teachers exported by Mtkd.");
    }

    // A shard's rows keep their index in the whole split, and the part has the header an unsharded run would write.
    private static SoftLabelFileSummary WritePart(TeacherScoringTransformer scorer, IDataView view, ImageDataset images, int[] rows, string output, int topK,
        IReadOnlyList<TrainingRowSet?>? trainingRows)
    {
        var scored = scorer.Transform(view);
        var logits = scored.GetColumn<float[]>(TeacherColumns.Logits).SelectMany(r => r).ToArray();
        var header = new SoftLabelHeader(scorer.TeacherCount, scorer.ClassCount, scorer.TeacherDescriptions.Select(t => t.Name).ToArray(),
            images.ClassNames.Count == scorer.ClassCount ? images.ClassNames : null, trainingRows);
        SoftLabelWriter.Write(output, new SoftLabelSet(header, rows.Select(r => (long)r).ToArray(), images.Labels.ToArray(), logits), topK);
        return new SoftLabelFileSummary(output, rows.Length, new FileInfo(output).Length, header.TeacherCount, header.ClassCount, topK >= header.ClassCount ? 0 : topK);
    }
}
