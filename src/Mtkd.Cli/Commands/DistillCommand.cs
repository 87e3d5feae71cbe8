using Mtkd.Shared;
using System.CommandLine;
using System.Diagnostics;
using Mtkd.MLNet;
using Mtkd.MLNet.Data;
using Mtkd.MLNet.Scoring;
using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.SoftLabels;
using Mtkd.Training.Engine;
using Spectre.Console;
using Mtkd.Training.Teachers;
using Mtkd.Training.Fusion;

namespace Mtkd.Cli.Commands;

/// <summary><c>mtkd distill</c>: trains a student from teachers or a soft-label file; resumes from its checkpoints when run again.</summary>
internal static class DistillCommand
{
    public sealed record Report(string Mode, string Student, long Parameters, long MultiplyAccumulates, int Teachers, int EpochsRun,
        double TestAccuracy, double? BestValidationAccuracy, double Seconds, string Onnx, string Metrics)
    {
        /// <summary>With a method that trains several students (mutual learning's peers, online ensemble compression's branches): each, as written.</summary>
        public IReadOnlyList<StudentFigures>? Students { get; init; }

        /// <summary>With --baseline: the student's network trained on the labels alone, same schedule and images seen.</summary>
        public double? BaselineAccuracy { get; init; }

        /// <summary>The temperature and α the student was trained with (with a sweep, the ones chosen on validation).</summary>
        public double Temperature { get; init; }

        /// <inheritdoc cref="Temperature"/>
        public double Alpha { get; init; }

        /// <summary>With --sweep-temperature or --sweep-alpha: every setting tried and its validation accuracy.</summary>
        public IReadOnlyList<SweepPoint>? Sweep { get; init; }

        /// <summary>With several students: all of them as one ONNX model (ensemble.onnx, the mean of their logits).</summary>
        public string? EnsembleOnnx { get; init; }

        /// <summary>That model's test accuracy, scored by ONNX Runtime.</summary>
        public double? EnsembleAccuracy { get; init; }
    }

    /// <summary>One of several students a run trained: its network, size, test accuracy and ONNX file.</summary>
    public sealed record StudentFigures(string Student, long Parameters, long MultiplyAccumulates, double TestAccuracy, string Onnx)
    {
        /// <summary>With --baseline: this network trained on the labels alone.</summary>
        public double? BaselineAccuracy { get; init; }
    }

    public static Command Create()
    {
        var data = new DataFlags();
        var unlabeled = new Option<string?>("--unlabeled") { Description = "More images without labels (a folder of images, or any --data form; labels " +
            "ignored), taught by the teachers alone; needs --teacher." };
        var teachers = new Option<string[]>("--teacher") { Description = "A teacher ONNX model; repeat for each teacher." };
        var softLabels = new Option<string?>("--soft-labels") { Description = "A soft-label file of the training split (from mtkd score) instead of --teacher." };
        var teacherFeatures = new Option<string?>("--teacher-features") { Description = "Methods that read features (supernet2, hint): the --teacher " +
            "models' output holding them (Mtkd's teachers: features)." };
        var consistent = new Option<bool>("--consistent") { Description = "Score the --teacher models on every augmented training batch (consistent teaching) instead of once per image." };
        var method = new MethodFlags();
        var loss = new OptionFlags(new DistillationOptions());
        var student = new Option<string>("--student") { Description = $"Student preset: {string.Join(", ", NetworkPresets.Names)}.", DefaultValueFactory = _ => NetworkPresets.CnnSmall };
        var width = new Option<int?>("--width") { Description = "Base channel count of the student (default: the preset's)." };
        var output = new Option<string>("--out") { Description = "Folder for student.onnx, metrics.csv, report.json and checkpoints/.", Required = true };
        var json = new Option<string?>("--json") { Description = "Also write the report as JSON to this file." };
        var views = new Option<int>("--views") { Description = "With --teacher: a pool of this many views per image (the image and V − 1 augmented by " +
            "--shift/--flip/--rotate/--rand-augment), scored by the teachers once; the student trains on the pool for --epochs / V passes (the study's " +
                "best recipe, with --shift 2 --flip on Fashion-MNIST: 5). 1 is off.", DefaultValueFactory = _ => 1 };
        var labels = new Option<int?>("--labels") { Description = "Keep the labels of the first N training images; the rest train unlabelled, taught " +
            "by the teachers alone (validation comes from the labelled)." };
        var baseline = new Option<bool>("--baseline") { Description = "Also train each student's network the standard way (the labels alone; same " +
            "schedule, augmentation, seed and images seen) and report what distillation gained over it." };
        var sweepTemperature = new Option<string?>("--sweep-temperature") { Description = "Temperatures to try, such as 1,2,4: one run each (with every " +
            "--sweep-alpha), the best on the validation images kept (10 % of the labelled held out unless --validation-fraction says otherwise); never chosen on the test set." };
        var sweepAlpha = new Option<string?>("--sweep-alpha") { Description = "Hard-label weights α to try, such as 0.3,0.5,0.7 (with every --sweep-temperature)." };
        var training = new TrainingFlags(defaultEpochs: 8);
        var command = new Command("distill", "Distill a student from teachers (or their soft labels); run again on the same --out to resume.")
        {
            unlabeled, teachers, softLabels, teacherFeatures, consistent, student, width, output, json, labels, views, baseline, sweepTemperature, sweepAlpha,
        };
        method.AddTo(command);
        loss.AddTo(command);
        data.AddTo(command);
        training.AddTo(command);
        command.SetAction((parse, cancellation) => Task.FromResult(CliErrors.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            var distillation = new DistillationOptions { Method = method.Create(parse) };
            loss.Apply(parse, distillation);
            string directory = parse.GetValue(output)!;
            OutputChecks.FileIfGiven(parse.GetValue(json), "--json");
            OutputChecks.Folder(directory, "--out");
            var options = training.Options(parse);
            options.CheckpointDirectory = Path.Combine(directory, "checkpoints");
            options.MetricsPath = Path.Combine(directory, "metrics.csv");
            var teacherPaths = parse.GetValue(teachers) ?? [];
            string? softLabelPath = parse.GetValue(softLabels);
            bool readsTeachers = distillation.Method.Reads != TeacherSignal.None;
            if (readsTeachers && (teacherPaths.Length > 0) == (softLabelPath is not null))
                throw new ArgumentException("Give the teachers either as --teacher A.onnx --teacher B.onnx … or as --soft-labels FILE, not both or neither.");
            if (!readsTeachers && (teacherPaths.Length > 0 || softLabelPath is not null))
                throw new ArgumentException($"{distillation.Method.Name} trains without teachers: drop --teacher and --soft-labels.");
            if (parse.GetValue(consistent) && softLabelPath is not null)
                throw new ArgumentException("--consistent scores the teachers on every batch: give them as --teacher A.onnx --teacher B.onnx …, not --soft-labels.");
            if (parse.GetValue(views) > 1 && softLabelPath is not null)
                throw new ArgumentException("--views scores a pool of augmented views with the --teacher models; a --soft-labels file describes the images themselves.");
            if (parse.GetValue(unlabeled) is not null && readsTeachers && teacherPaths.Length == 0)
                throw new ArgumentException("--unlabeled images are taught by the teachers alone: give them as --teacher A.onnx … (a --soft-labels file covers the training split only).");
            var job = new DistillationJob
            {
                Trainer = options, Distillation = distillation, Views = parse.GetValue(views), ConsistentTeaching = parse.GetValue(consistent),
                Student = NetworkPresets.Get(parse.GetValue(student)!, parse.GetValue(width)),
            };
            job.Validate(); // a bad value or combination is refused before any data is read
            // A sweep: every (T, α) of the lists, the flags' own value where a list is not given.
            (double[] Temperatures, double[] Alphas)? sweep = parse.GetValue(sweepTemperature) is null && parse.GetValue(sweepAlpha) is null ? null
                : (Temperatures: Numbers(parse.GetValue(sweepTemperature), "--sweep-temperature") ?? [distillation.Temperature],
                   Alphas: Numbers(parse.GetValue(sweepAlpha), "--sweep-alpha") ?? [distillation.Alpha]);
            foreach (var t in sweep?.Temperatures ?? [])
                if (!(t > 0)) throw new ArgumentException($"--sweep-temperature {t}: expected positive temperatures.");
            foreach (var a in sweep?.Alphas ?? [])
                if (a is < 0 or > 1) throw new ArgumentException($"--sweep-alpha {a}: expected weights in [0, 1].");
            using var folderLock = OutputLock.Acquire(directory, "mtkd distill");

            var request = data.Request(parse, teacherPaths, cancellation);
            var extra = parse.GetValue(unlabeled) is { } folder ? request with { Source = DatasetSource.Resolve(folder, "--unlabeled") } : null;
            var images = training.LoadData(parse, request, parse.GetValue(labels), unlabeled: extra, choosesSettings: sweep is not null);
            if (sweep is not null && images.Validation is null)
                throw new ArgumentException("--sweep-temperature and --sweep-alpha choose on validation images; --validation-fraction 0 leaves none.");
            using var onnxTeachers = teacherPaths.Length > 0 && readsTeachers ? LoadTeachers(teacherPaths, parse.GetValue(teacherFeatures), images.Train) : null;
            var train = softLabelPath is not null ? WithSoftLabels(images, softLabelPath, distillation.OutOfBagTeachers)
                : distillation.OutOfBagTeachers ? WithInBag(images, teacherPaths) : images.Train;
            var spec = job.Student;
            IReadOnlyList<SweepPoint>? sweepPoints = null;
            using var result = TrainingConsole.Run("distill", stage =>
            {
                var ready = job with { Data = train, Validation = images.Validation, Teachers = onnxTeachers, Progress = stage($"{distillation.Method.Name} → {spec.Name}") };
                if (sweep is not { } grid) return ready.Run(cancellation);
                var (best, chosen, points) = DistillationSweep.Run(ready, grid.Temperatures, grid.Alphas, cancellation);
                sweepPoints = points;
                distillation.Temperature = chosen.Temperature;
                distillation.Alpha = chosen.Alpha;
                return best;
            });

            var network = result.Student;
            var exportOptions = new OnnxExportOptions
            {
                ClassNames = images.Test.ClassNames, Resize = images.Resize, Normalization = images.Normalization, BinaryLogit = BinaryModels.OneLogit(images.Test.ClassNames),
            };
            string onnx = Path.Combine(directory, "student.onnx");
            OnnxExporter.Export(network, onnx, exportOptions);
            var (_, accuracy) = NetworkTrainer.Evaluate(network, images.Test);
            var complexity = network.Complexity;
            var history = result.History;
            // Several students (peers, branches of several widths): each is a model of its own, student-<k>.onnx in the method's order.
            var several = result.Students.Count > 1 ? result.Students : null;
            var baselines = !parse.GetValue(baseline) ? null
                : TrainingConsole.Run("baselines", stage => DistillBaselines.Run(job with { Validation = images.Validation }, train,
                    (several ?? [network]).Select(s => s.Spec).ToArray(), images.Test, directory, stage, cancellation));
            var students = several?.Select((s, k) =>
            {
                string path = Path.Combine(directory, $"student-{k}.onnx");
                OnnxExporter.Export(s, path, exportOptions);
                return new StudentFigures(s.Spec.Name, s.Complexity.Parameters, s.Complexity.MultiplyAccumulates, NetworkTrainer.Evaluate(s, images.Test).Accuracy, path)
                {
                    BaselineAccuracy = baselines?[k],
                };
            }).ToArray();
            // The students together (the branch ensemble, the peers) as one ONNX model: the mean of their logits, read back and scored by ONNX Runtime.
            string? ensembleOnnx = students is null ? null : Path.Combine(directory, "ensemble.onnx");
            double? ensembleAccuracy = null;
            if (ensembleOnnx is not null)
            {
                OnnxEnsemble.Merge(students!.Select(s => TeacherModel.FromFile(s.Onnx)).ToArray(), ensembleOnnx, new OnnxEnsembleOptions { Fusion = FusionMethod.MeanLogit, ClassNames = images.Test.ClassNames });
                using var merged = OnnxTeachers.Load([TeacherModel.FromFile(ensembleOnnx)]);
                ensembleAccuracy = SoftLabelAccuracy.MeanProbability(merged.Logits(images.Test, cancellation), images.Test.Labels, 1, images.Test.ClassCount);
            }
            var report = new Report(distillation.Method.Name, network.Spec.Name, complexity.Parameters, complexity.MultiplyAccumulates, result.TeacherCount, history.Count,
                accuracy, result.BestValidationAccuracy, clock.Elapsed.TotalSeconds, onnx, options.MetricsPath)
            {
                Students = students,
                Sweep = sweepPoints,
                Temperature = distillation.Temperature,
                Alpha = distillation.Alpha,
                EnsembleOnnx = ensembleOnnx,
                EnsembleAccuracy = ensembleAccuracy,
                BaselineAccuracy = baselines is null ? null : several is null ? baselines[0] : baselines[result.Students.ToList().IndexOf(network)],
            };
            var taught = result.TeacherCount > 0 ? $"from {result.TeacherCount} {(result.TeacherCount == 1 ? "teacher" : "teachers")}" : $"{result.Students.Count} student(s) without teachers";
            AnsiConsole.MarkupLine(Markup.Escape($"Student {network.Spec.Name} ({complexity.Parameters:N0} parameters, {complexity.MultiplyAccumulates:N0} MACs per image), " +
                $"{distillation.Method.Name} {taught} on {result.TrainedOn.Count:N0} images ({result.TrainedOn.LabeledCount:N0} labelled): " +
                $"test accuracy {accuracy * 100:0.00} % after {history.Count} epochs ({report.Seconds:0} s)."));
            foreach (var (s, k) in (students ?? []).Select((s, k) => (s, k)))
                AnsiConsole.MarkupLine(Markup.Escape($"  student {k}: {s.Student}, {s.Parameters:N0} parameters, {s.MultiplyAccumulates:N0} MACs, test accuracy {s.TestAccuracy * 100:0.00} %" +
                    (s.BaselineAccuracy is { } b ? $" (alone on the labels {b * 100:0.00} %: {(s.TestAccuracy - b) * 100:+0.00;-0.00} points)" : "") + $" ({s.Onnx})"));
            foreach (var p in sweepPoints ?? [])
                AnsiConsole.MarkupLine(Markup.Escape($"  sweep: T {p.Temperature:0.###}, α {p.Alpha:0.###}: validation accuracy {p.ValidationAccuracy * 100:0.00} %" +
                    (p.Temperature == distillation.Temperature && p.Alpha == distillation.Alpha ? " (chosen)" : "")));
            if (ensembleAccuracy is { } together)
                AnsiConsole.MarkupLine(Markup.Escape($"  the {students!.Length} students as one model (mean of their logits): test accuracy {together * 100:0.00} % ({ensembleOnnx})"));
            if (report.BaselineAccuracy is { } alone)
                AnsiConsole.MarkupLine(Markup.Escape($"The same network trained on the labels alone: {alone * 100:0.00} % ({(accuracy - alone) * 100:+0.00;-0.00} points for distillation)."));
            AnsiConsole.MarkupLine($"Wrote [blue]{Markup.Escape(onnx)}[/] and [blue]{Markup.Escape(options.MetricsPath)}[/].");
            Mtkd.Training.AtomicFile.WriteAllText(Path.Combine(directory, "report.json"), System.Text.Json.JsonSerializer.Serialize(report,
                new System.Text.Json.JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase }));
            JsonOutput.WriteIfAsked(parse.GetValue(json), report);
            return 0;
        })));
        return command;
    }

    // A comma-separated list of numbers, or null when the flag is not given.
    private static double[]? Numbers(string? text, string flag)
    {
        if (text is null) return null;
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i]))
                throw new ArgumentException($"{flag} '{text}': '{parts[i]}' is not a number; expected numbers separated by commas, such as {(flag == "--sweep-alpha" ? "0.3,0.5,0.7" : "1,2,4")}.");
        return values;
    }

    // The --teacher models as the job's teachers (their features too with --teacher-features), checked against the data.
    private static OnnxTeachers LoadTeachers(string[] paths, string? featuresOutput, ImageDataset train)
    {
        var teachers = OnnxTeachers.Load(paths.Select(TeacherModel.FromFile).ToArray(), featuresOutput);
        try
        {
            teachers.CheckFits(train);
            return teachers;
        }
        catch
        {
            teachers.Dispose();
            throw;
        }
    }

    // The training images with the soft-label file's logits (and in-bag flags for --out-of-bag) as columns, matched by row index.
    private static ImageDataset WithSoftLabels(TrainingData images, string path, bool outOfBag)
    {
        var set = SoftLabelFile.Read(path);
        var train = images.Train.WithColumn(TeacherColumns.Logits, SoftLabelsFor(images, set, path), set.Header.Width);
        if (!outOfBag) return train;
        if (!set.Header.KnowsTrainingRows)
            throw new ArgumentException($"--out-of-bag: {path} does not record which rows each teacher trained on " +
                $"(metadata '{TrainingRowSet.MetadataKey}'); score teachers from mtkd teachers with mtkd score into a Parquet file.");
        return train.WithColumn(TeacherColumns.InBag, InBagMask(images, set.Header.TeacherTrainingRows!), set.TeacherCount);
    }

    // The training images with the --teacher models' in-bag flags, from the rows each recorded in its ONNX metadata.
    private static ImageDataset WithInBag(TrainingData images, string[] teachers)
    {
        var rows = teachers.Select(TrainingRowSet.FromOnnx).ToArray();
        int unknown = Array.FindIndex(rows, r => r is null);
        if (unknown >= 0)
            throw new ArgumentException($"--out-of-bag: {teachers[unknown]} does not record the rows it trained on (metadata " +
                $"'{TrainingRowSet.MetadataKey}', written by mtkd teachers --method bagging).");
        return images.Train.WithColumn(TeacherColumns.InBag, InBagMask(images, rows), teachers.Length);
    }

    // Whether teacher k trained on training image i, [images, K] as 1 and 0: by the image's row in the training split.
    private static float[] InBagMask(TrainingData images, IReadOnlyList<TrainingRowSet?> rows) =>
        TrainingRowSet.InBagMask(rows, images.TrainRows.Select(r => (long)r).ToArray()).Select(b => b ? 1f : 0f).ToArray();

    // The soft-label file must cover the training split by row index (as mtkd score writes it); rows held out for validation are dropped.
    private static float[] SoftLabelsFor(TrainingData images, SoftLabelSet set, string path)
    {
        var byRow = new Dictionary<long, int>();
        for (int i = 0; i < set.RowCount; i++)
        {
            long id = set.RowIds[i];
            if (id is < 0 or > int.MaxValue) // no split has such a row (with --quick the split's size is not known here)
                throw new InvalidDataException($"{path}, row {i + 1}: index {id} cannot be a row of the training split (rows are numbered from 0); " +
                    "the file is damaged or not for this data.");
            byRow[id] = i;
        }
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
