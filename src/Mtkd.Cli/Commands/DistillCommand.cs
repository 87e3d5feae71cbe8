using Mtkd.Training.Data;
using System.CommandLine;
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet;
using Mtkd.MLNet.Data;
using Mtkd.MLNet.Scoring;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.SoftLabels;
using Mtkd.Training.Engine;
using Spectre.Console;

namespace Mtkd.Cli.Commands;

/// <summary><c>mtkd distill</c>: trains a student from teachers or a soft-label file; resumes from its checkpoints when run again.</summary>
internal static class DistillCommand
{
    public sealed record Report(string Mode, string Student, long Parameters, long MultiplyAccumulates, int Teachers, int EpochsRun,
        double TestAccuracy, double? BestValidationAccuracy, double Seconds, string Onnx, string Metrics);

    public static Command Create()
    {
        var data = new DataFlags();
        var unlabeled = new Option<string?>("--unlabeled") { Description = "More images without labels (a folder of images, or any --data form; labels ignored), taught by the teachers alone; needs --teacher." };
        var teachers = new Option<string[]>("--teacher") { Description = "A teacher ONNX model; repeat for each teacher." };
        var softLabels = new Option<string?>("--soft-labels") { Description = "A soft-label file of the training split (from mtkd score) instead of --teacher." };
        var teacherFeatures = new Option<string?>("--teacher-features") { Description = "supernet2: the teachers' output holding their penultimate features." };
        var consistent = new Option<bool>("--consistent") { Description = "Score the --teacher models on every augmented training batch (consistent teaching) instead of once per image." };
        var mode = new Option<string>("--mode") { Description = $"Distillation mode: {string.Join(", ", DistillationModes.All)}.", DefaultValueFactory = _ => "output_avg" };
        var student = new Option<string>("--student") { Description = $"Student preset: {string.Join(", ", NetworkPresets.Names)}.", DefaultValueFactory = _ => NetworkPresets.CnnSmall };
        var width = new Option<int?>("--width") { Description = "Base channel count of the student (default: the preset's)." };
        var temperature = new Option<double>("--temperature") { Description = "Temperature T.", DefaultValueFactory = _ => 4 };
        var alpha = new Option<double>("--alpha") { Description = "Weight of the hard-label cross-entropy.", DefaultValueFactory = _ => 0.5 };
        var smoothing = new Option<double>("--label-smoothing") { Description = "Label smoothing of the hard-label term.", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Folder for student.onnx, metrics.csv, report.json and checkpoints/.", Required = true };
        var json = new Option<string?>("--json") { Description = "Also write the report as JSON to this file." };
        var adjust = new Option<bool>("--adjust-wrong-teachers") { Description = "Knowledge adjustment: swap each teacher's wrong top class with the true one in stored logits before distilling." };
        var views = new Option<int>("--views") { Description = "With --teacher: a pool of this many views per image (the image and V − 1 augmented by --shift/--flip/--rotate/--rand-augment), scored by the teachers once; the student trains on the pool for --epochs / V passes (the study's best recipe, with --shift 2 --flip on Fashion-MNIST: 5). 1 is off.", DefaultValueFactory = _ => 1 };
        var outOfBag = new Option<bool>("--out-of-bag") { Description = "Teach each image by the teachers that did not train on it (cross-fitted soft labels): needs teachers from mtkd teachers, or a soft-label file mtkd score wrote from them." };
        var labels = new Option<int?>("--labels") { Description = "Keep the labels of the first N training images; the rest train unlabelled, taught by the teachers alone (validation comes from the labelled)." };
        var training = new TrainingFlags(defaultEpochs: 8);
        var command = new Command("distill", "Distill a student from teachers (or their soft labels); run again on the same --out to resume.")
        {
            unlabeled, teachers, softLabels, teacherFeatures, consistent, mode, student, width, temperature, alpha, smoothing, output, json, labels, adjust, outOfBag, views,
        };
        data.AddTo(command);
        training.AddTo(command);
        command.SetAction((parse, cancellation) => Task.FromResult(CliErrors.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            var distillation = new DistillationOptions
            {
                Mode = DistillationModes.Parse(parse.GetValue(mode)!), Temperature = parse.GetValue(temperature), Alpha = parse.GetValue(alpha),
                LabelSmoothing = parse.GetValue(smoothing), AdjustWrongTeachers = parse.GetValue(adjust), OutOfBagTeachers = parse.GetValue(outOfBag),
            };
            if (distillation.OutOfBagTeachers && parse.GetValue(consistent))
                throw new ArgumentException("--out-of-bag applies to soft labels scored once; --consistent teachers score every augmented batch, which no teacher trained on.");
            string directory = parse.GetValue(output)!;
            OutputChecks.FileIfGiven(parse.GetValue(json), "--json");
            OutputChecks.Folder(directory, "--out");
            var options = training.Options(parse);
            options.Validate(); // a bad value is refused before any data is read
            distillation.Validate();
            options.CheckpointDirectory = Path.Combine(directory, "checkpoints");
            options.MetricsPath = Path.Combine(directory, "metrics.csv");
            int viewCount = parse.GetValue(views);
            if (viewCount < 1) throw new ArgumentException($"--views {viewCount}: expected 1 (off) or more views per image.");
            if (viewCount > 1 && (parse.GetValue(consistent) || parse.GetValue(softLabels) is not null || distillation.OutOfBagTeachers || !options.Augmentation.Any))
                throw new ArgumentException("--views scores a pool of augmented views with the --teacher models: it needs --shift, --flip, --rotate or --rand-augment, " +
                    "and does not go with --consistent, --soft-labels or --out-of-bag.");
            var teacherPaths = parse.GetValue(teachers) ?? [];
            if (parse.GetValue(unlabeled) is not null && teacherPaths.Length == 0)
                throw new ArgumentException("--unlabeled images are taught by the teachers alone: give them as --teacher A.onnx … (a --soft-labels file covers the training split only).");
            var request = data.Request(parse, teacherPaths);
            var extra = parse.GetValue(unlabeled) is { } folder ? request with { Source = DatasetSource.Resolve(folder, "--unlabeled") } : null;
            var images = training.LoadData(parse, request, parse.GetValue(labels), unlabeled: extra);
            if (viewCount > 1)
            {
                // The views are the augmentation now: the student sees exactly what its teachers scored (mixing still applies per batch).
                images = images with { Train = AugmentedViews.Create(images.Train, options.Augmentation, viewCount, options.Seed, includeOriginal: true) };
                options.Augmentation = new AugmentationOptions { Mixup = options.Augmentation.Mixup, CutMix = options.Augmentation.CutMix };
                options.Epochs = Math.Max(1, (int)Math.Ceiling(options.Epochs / (double)viewCount));
            }
            using var onlineScorer = parse.GetValue(consistent) ? OnlineScorer(parse.GetValue(teachers) ?? [], parse.GetValue(softLabels), images) : null;
            var targets = onlineScorer is not null
                ? new DistillationTargets([], onlineScorer.TeacherCount, OnlineTeachers: new OnnxBatchTeachers(onlineScorer))
                : Targets(parse.GetValue(teachers) ?? [], parse.GetValue(softLabels), parse.GetValue(teacherFeatures), distillation.Mode, images, distillation.OutOfBagTeachers);

            var spec = NetworkPresets.Get(parse.GetValue(student)!, parse.GetValue(width));
            using var network = NetworkTrainer.CreateNetwork(spec, images.Train, options.Seed,
                heads: distillation.Mode == DistillationMode.MimicAll ? targets.TeacherCount : 1);
            var history = TrainingConsole.Run("distill", stage =>
                NetworkTrainer.Distill(network, images.Train, targets, options, distillation, images.Validation, stage($"{distillation.Mode.Name()} → {spec.Name}"), cancellation));

            string onnx = Path.Combine(directory, "student.onnx");
            OnnxExporter.Export(network, onnx, new OnnxExportOptions { ClassNames = images.Test.ClassNames, Resize = images.Resize, Normalization = images.Normalization });
            var (_, accuracy) = NetworkTrainer.Evaluate(network, images.Test);
            var complexity = network.Complexity;
            var report = new Report(distillation.Mode.Name(), spec.Name, complexity.Parameters, complexity.MultiplyAccumulates, targets.TeacherCount, history.Count,
                accuracy, history.Max(e => e.ValidationAccuracy), clock.Elapsed.TotalSeconds, onnx, options.MetricsPath);
            AnsiConsole.MarkupLine(Markup.Escape($"Student {spec.Name} ({complexity.Parameters:N0} parameters, {complexity.MultiplyAccumulates:N0} MACs per image), " +
                $"{distillation.Mode.Name()} from {targets.TeacherCount} teachers on {images.Train.Count:N0} images ({images.Train.LabeledCount:N0} labelled): " +
                $"test accuracy {accuracy * 100:0.00} % after {history.Count} epochs ({report.Seconds:0} s)."));
            AnsiConsole.MarkupLine($"Wrote [blue]{Markup.Escape(onnx)}[/] and [blue]{Markup.Escape(options.MetricsPath)}[/].");
            Mtkd.Training.AtomicFile.WriteAllText(Path.Combine(directory, "report.json"), System.Text.Json.JsonSerializer.Serialize(report,
                new System.Text.Json.JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase }));
            JsonOutput.WriteIfAsked(parse.GetValue(json), report);
            return 0;
        })));
        return command;
    }

    private static TeacherScoringTransformer OnlineScorer(string[] teachers, string? softLabels, TrainingData images)
    {
        if (teachers.Length == 0 || softLabels is not null)
            throw new ArgumentException("--consistent scores the teachers on every batch: give them as --teacher A.onnx --teacher B.onnx …, not --soft-labels.");
        var ml = new MLContext(seed: 1);
        var scorer = ml.Transforms.ScoreTeachers(new TeacherScoringEstimator.Options { Teachers = teachers.Select(TeacherModel.FromFile).ToArray() })
            .Fit(images.Train.ToDataView(ml));
        try
        {
            CheckClasses(scorer, images.Train);
            return scorer;
        }
        catch
        {
            scorer.Dispose();
            throw;
        }
    }

    private static void CheckClasses(TeacherScoringTransformer scorer, Mtkd.Training.Data.ImageDataset images)
    {
        if (scorer.ClassCount != images.ClassCount)
            throw new ArgumentException($"The teachers ({string.Join(", ", scorer.TeacherDescriptions.Select(t => t.Name))}) have {scorer.ClassCount} classes; " +
                $"the training data has {images.ClassCount} ({string.Join(", ", images.ClassNames)}). Teachers must classify the data's classes.");
    }

    private static DistillationTargets Targets(string[] teachers, string? softLabels, string? featuresOutput, DistillationMode mode, TrainingData images, bool outOfBag)
    {
        if ((teachers.Length > 0) == (softLabels is not null))
            throw new ArgumentException("Give the teachers either as --teacher A.onnx --teacher B.onnx … or as --soft-labels FILE, not both or neither.");
        if (mode == DistillationMode.Supernet2 && (featuresOutput is null || teachers.Length == 0))
            throw new ArgumentException("supernet2 needs --teacher models and --teacher-features NAME, the output holding their penultimate features.");
        if (softLabels is not null)
        {
            var set = SoftLabelFile.Read(softLabels);
            var stored = new DistillationTargets(SoftLabelsFor(images, set, softLabels), set.TeacherCount);
            if (!outOfBag) return stored;
            if (!set.Header.KnowsTrainingRows)
                throw new ArgumentException($"--out-of-bag: {softLabels} does not record which rows each teacher trained on " +
                    $"(metadata '{TrainingRowSet.MetadataKey}'); score teachers from mtkd teachers with mtkd score into a Parquet file.");
            return stored with { InBag = InBagMask(images, set.Header.TeacherTrainingRows!) };
        }

        var logits = Score(images.Train, teachers.Select(TeacherModel.FromFile).ToArray(), out int teacherCount);
        float[]? features = featuresOutput is null ? null
            : Score(images.Train, teachers.Select(t => TeacherModel.FromFile(t) with { OutputName = featuresOutput, OutputKind = TeacherOutputKind.Logits }).ToArray(), out _);
        var targets = new DistillationTargets(logits, teacherCount, features);
        if (!outOfBag) return targets;
        var rows = teachers.Select(TrainingRowSet.FromOnnx).ToArray();
        int unknown = Array.FindIndex(rows, r => r is null);
        if (unknown >= 0)
            throw new ArgumentException($"--out-of-bag: {teachers[unknown]} does not record the rows it trained on (metadata '{TrainingRowSet.MetadataKey}', written by mtkd teachers --method bagging).");
        return targets with { InBag = InBagMask(images, rows) };
    }

    // Whether teacher k trained on training image i, [images, K]: by the image's row in the training split.
    private static bool[] InBagMask(TrainingData images, IReadOnlyList<TrainingRowSet?> rows) =>
        TrainingRowSet.InBagMask(rows, images.TrainRows.Select(r => (long)r).ToArray());

    private static float[] Score(Mtkd.Training.Data.ImageDataset images, TeacherModel[] teachers, out int teacherCount)
    {
        var ml = new MLContext(seed: 1);
        var view = images.ToDataView(ml);
        using var scorer = ml.Transforms.ScoreTeachers(new TeacherScoringEstimator.Options { Teachers = teachers }).Fit(view);
        CheckClasses(scorer, images);
        teacherCount = scorer.TeacherCount;
        var result = new float[images.Count * scorer.TeacherCount * scorer.ClassCount];
        var scored = scorer.Transform(view);
        using var cursor = scored.GetRowCursor([scored.Schema["TeacherLogits"]]);
        var getter = cursor.GetGetter<VBuffer<float>>(scored.Schema["TeacherLogits"]);
        VBuffer<float> row = default;
        int offset = 0;
        while (cursor.MoveNext())
        {
            getter(ref row);
            row.CopyTo(result.AsSpan(offset, row.Length));
            offset += row.Length;
        }
        return result;
    }

    // The soft-label file must cover the training split by row index (as mtkd score writes it); rows held out for validation are dropped.
    private static float[] SoftLabelsFor(TrainingData images, SoftLabelSet set, string path)
    {
        var byRow = new Dictionary<long, int>();
        for (int i = 0; i < set.RowCount; i++) byRow[set.RowIds[i]] = i;
        if (set.ClassCount != images.Train.ClassCount)
            throw new InvalidDataException($"{path} has {set.ClassCount} classes; the training data has {images.Train.ClassCount}.");
        var result = new float[images.Train.Count * set.Header.Width];
        for (int i = 0; i < images.TrainRows.Length; i++)
        {
            int row = images.TrainRows[i];
            if (!byRow.TryGetValue(row, out int source))
                throw new InvalidDataException($"{path} has no row with index {row}; it must hold soft labels for every training image (mtkd score --split train).");
            if (set.Labels[source] >= 0 && images.Train.Labels[i] >= 0 && set.Labels[source] != images.Train.Labels[i])
                throw new InvalidDataException($"{path}: row {row} is labelled {set.Labels[source]}, but training image {row} is class {images.Train.Labels[i]}; the file is not for this data.");
            set.Row(source).CopyTo(result.AsSpan(i * set.Header.Width, set.Header.Width));
        }
        return result;
    }
}
