using Mtkd.Shared;
using System.CommandLine;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.SoftLabels;
using Mtkd.Training.Engine;
using Mtkd.Training.Fusion;
using Mtkd.Training.Teachers;
using Spectre.Console;

namespace Mtkd.Cli.Commands;

/// <summary><c>mtkd teachers</c>: trains an ensemble (seeds, bagging, cross-fitting or snapshots) and exports every teacher to ONNX.</summary>
internal static class TeachersCommand
{
    /// <summary>One exported teacher: its file, metrics, test accuracy, size and epochs; a specialist's classes ("0-3"), its accuracy then over those classes and "other".</summary>
    public sealed record Teacher(string Path, string Metrics, double TestAccuracy, long Parameters, int Epochs, string? Classes = null);

    /// <summary>teachers.json: the teachers and the ensemble's test accuracy (mean probability; specialists unified), read back from the ONNX files.</summary>
    public sealed record Report(string Method, string Architecture, int Count, double Fraction, IReadOnlyList<Teacher> Teachers, double EnsembleTestAccuracy);

    private static readonly string[] Methods = ["seeds", "bagging", "cross-fit", "snapshot", "specialists"];

    /// <summary>Early-stopping patience of bagged and cross-fitted teachers unless --patience says otherwise.</summary>
    public const int DefaultPatience = 10;

    public static Command Create()
    {
        var data = new DataFlags();
        var count = new Option<int>("--count") { Description = "Number of teachers (snapshots with --method snapshot).", DefaultValueFactory = _ => 3 };
        var fraction = new Option<double>("--fraction") { Description = "Bagging: share of the training images each teacher trains on.", DefaultValueFactory = _ => 0.7 };
        var method = new Option<string>("--method")
        {
            Description = "seeds (each teacher on all the training images from its own seed: a deep ensemble, the teachers that teach best), " +
                "bagging (each on a random --fraction of them), cross-fit (--folds K: teacher k on every fold but k, for --out-of-bag soft labels) " +
                "snapshot (one run, a snapshot per cosine cycle) or specialists (each on all the images, telling a few classes apart and the rest as \"other\"; " +
                "--groups, or by default ⌈C/2⌉ groups covering every class twice; their unified ensemble teaches as one teacher).",
            DefaultValueFactory = _ => "seeds",
        };
        OutputChecks.OneOf(method, Methods);
        var folds = new Option<int?>("--folds") { Description = "Cross-fit: number of folds, and of teachers (default --count)." };
        var groups = new Option<string?>("--groups")
        {
            Description = "Specialists: the class groups, separated by ';', each of class indices, ranges or names (0-3;1-4;4-7;6-9;5,8,9,0). " +
                "Default: --count groups (or ⌈C/2⌉, at least 3) of consecutive classes covering every class twice.",
        };
        var cycle = new Option<int?>("--cycle-epochs") { Description = "Snapshot: epochs per cycle (default: --epochs)." };
        var arch = new Option<string>("--arch") { Description = $"Architecture: {string.Join(", ", NetworkPresets.Names)}.", DefaultValueFactory = _ => NetworkPresets.TeacherCnn };
        var width = new Option<int?>("--width") { Description = "Base channel count of the architecture (default: the preset's)." };
        var output = new Option<string>("--out") { Description = "Folder for teacher-<i>.onnx, teacher-<i>.csv and teachers.json.", Required = true };
        var json = new Option<string?>("--json") { Description = "Also write the report as JSON to this file." };
        var training = new TrainingFlags(defaultEpochs: 5, defaultStopOn: EarlyStoppingMetric.ValidationAccuracy);
        var command = new Command("teachers", "Train an ensemble of teachers and export each to ONNX.") { count, fraction, method, folds, groups, cycle, arch, width, output, json };
        data.AddTo(command);
        training.AddTo(command);
        command.SetAction((parse, cancellation) => Task.FromResult(CliErrors.Run(() =>
        {
            string directory = parse.GetValue(output)!;
            OutputChecks.FileIfGiven(parse.GetValue(json), "--json");
            OutputChecks.Folder(directory, "--out");
            string how = parse.GetValue(method)!;
            // Bagged and cross-fitted teachers leave rows out, on which each early-stops by default (MTKD's protocol).
            bool leavesRowsOut = how is "bagging" or "cross-fit";
            int k = how == "cross-fit" ? parse.GetValue(folds) ?? parse.GetValue(count) : parse.GetValue(count);
            if (parse.GetValue(count) < 1)
                throw new ArgumentException($"--count {parse.GetValue(count)}: expected one or more teachers.");
            if (how == "cross-fit" && k < 2)
                throw new ArgumentException($"--folds {k}: cross-fitting needs two or more folds.");
            if (how != "cross-fit" && parse.GetValue(folds) is not null)
                throw new ArgumentException("--folds is for --method cross-fit.");
            if (how != "specialists" && parse.GetValue(groups) is not null)
                throw new ArgumentException("--groups is for --method specialists.");
            if (how != "bagging" && parse.GetResult(fraction) is { Implicit: false })
                throw new ArgumentException($"--fraction is for --method bagging; --method {how} trains every teacher on {(how == "cross-fit" ? "all folds but one" : "all the training images")}.");
            bool countGiven = parse.GetResult(count) is { Implicit: false };
            if (how == "bagging" && !(parse.GetValue(fraction) is > 0 and <= 1)) // NaN fails too
                throw new ArgumentException($"--fraction {parse.GetValue(fraction)} is not in (0, 1]: it is the share of the training images each teacher trains on.");
            var options = training.Options(parse);
            // On accuracy: the validation loss turns up long before the accuracy stops rising; --patience 0 turns it off.
            if (leavesRowsOut && !training.PatienceGiven(parse)) options.EarlyStoppingPatience = DefaultPatience;
            var images = training.LoadData(parse, data.Request(parse, cancellation: cancellation), holdOutForPatience: !leavesRowsOut);
            var spec = NetworkPresets.Get(parse.GetValue(arch)!, parse.GetValue(width));
            if (how == "cross-fit" && k > images.Train.Count)
                throw new ArgumentException($"--folds {k}: more folds than the {images.Train.Count} training images.");
            var specialistGroups = how != "specialists" ? null
                : parse.GetValue(groups) is { } text ? SpecialistClasses.Parse(text, images.Train.ClassNames)
                : SpecialistClasses.DefaultGroups(images.Train.ClassCount, countGiven ? k : Math.Max(3, (images.Train.ClassCount + 1) / 2));
            if (specialistGroups is not null) k = specialistGroups.Count;
            var generated = how == "snapshot"
                ? TrainingConsole.Run("snapshots", stage =>
                {
                    options.MetricsPath = Path.Combine(directory, "snapshots.csv");
                    return TeacherGeneration.Snapshots(images.Train, spec, k, parse.GetValue(cycle) ?? options.Epochs, options, images.Validation,
                        stage("snapshot run"), cancellation).ToArray();
                })
                : TrainingConsole.Run("teachers", stage =>
                {
                    options.MetricsPath = Path.Combine(directory, "teacher.csv"); // teacher-<i>.csv
                    var bars = Enumerable.Range(0, k).Select(i => stage($"teacher {i}")).ToArray();
                    var progress = new SynchronousProgress<(int Teacher, TrainingProgress Progress)>(p => bars[p.Teacher].Report(p.Progress));
                    return (how switch
                    {
                        "seeds" => TeacherGeneration.Seeds(images.Train, spec, k, options, images.Validation, progress, cancellation),
                        "cross-fit" => TeacherGeneration.CrossFit(images.Train, spec, k, options, images.Validation, progress, cancellation),
                        "specialists" => TeacherGeneration.Specialists(images.Train, spec, specialistGroups!, options, images.Validation, progress, cancellation),
                        _ => TeacherGeneration.Bagging(images.Train, spec, k, parse.GetValue(fraction), options, images.Validation, progress, cancellation),
                    }).ToArray();
                });
            return Finish(generated, images, directory, how, spec.Name, how == "bagging" ? parse.GetValue(fraction) : how == "cross-fit" ? 1 - 1.0 / k : 1,
                parse.GetValue(json));
        })));
        return command;
    }

    private static int Finish(GeneratedTeacher[] generated, TrainingData images, string directory, string method, string architecture, double fraction, string? json)
    {
        var teachers = new List<Teacher>();
        try
        {
            foreach (var t in generated)
            {
                var path = Path.Combine(directory, $"teacher-{t.Index}.onnx");
                // A bagged teacher records the rows of the training split it learned from, for out-of-bag soft labels (mtkd score, mtkd distill --out-of-bag).
                var trainingRows = t.TrainingRows is { } rows ? TrainingRowSet.Of(rows.Select(r => images.TrainRows[r]), images.SplitRows) : null;
                // A specialist is evaluated, and named, as it learned: its classes and "other".
                var test = t.Specialist?.Relabel(images.Test) ?? images.Test;
                OnnxExporter.Export(t.Network, path, new OnnxExportOptions
                {
                    ClassNames = test.ClassNames, Resize = images.Resize, Normalization = images.Normalization, FeaturesName = "features",
                    TrainingRows = trainingRows, Specialist = t.Specialist, BinaryLogit = t.Specialist is null && BinaryModels.OneLogit(test.ClassNames),
                });
                var (_, accuracy) = NetworkTrainer.Evaluate(t.Network, test);
                teachers.Add(new Teacher(path, method == "snapshot" ? Path.Combine(directory, "snapshots.csv") : Path.Combine(directory, $"teacher-{t.Index}.csv"),
                    accuracy, t.Network.ParameterCount, t.History.Count, t.Specialist?.ToString()));
            }
        }
        finally
        {
            foreach (var t in generated) t.Network.Dispose();
        }
        // The ensemble as every consumer will see it: read back from the files (specialists unified), on the test images.
        double ensemble;
        using (var onnx = OnnxTeachers.Load(teachers.Select(t => TeacherModel.FromFile(t.Path)).ToArray()))
            ensemble = SoftLabelAccuracy.MeanProbability(onnx.Logits(images.Test), images.Test.Labels, onnx.TeacherCount, onnx.ClassCount);
        bool specialists = teachers.Any(t => t.Classes is not null);
        var table = new Table().AddColumn("Teacher");
        if (specialists) table.AddColumn("Classes");
        table.AddColumn(new TableColumn("Test accuracy").RightAligned()).AddColumn(new TableColumn("Parameters").RightAligned());
        foreach (var t in teachers)
            table.AddRow([Markup.Escape(t.Path), .. specialists ? [Markup.Escape(t.Classes ?? "all")] : Array.Empty<string>(), $"{t.TestAccuracy * 100:0.00} %", t.Parameters.ToString("N0")]);
        table.AddRow([specialists ? "unified ensemble" : "ensemble (mean probability)", .. specialists ? [""] : Array.Empty<string>(), $"{ensemble * 100:0.00} %", ""]);
        AnsiConsole.Write(table);
        if (specialists)
            AnsiConsole.MarkupLine("A specialist's accuracy counts its own classes and \"other\"; the unified ensemble's, all the classes.");
        var report = new Report(method, architecture, teachers.Count, fraction, teachers, ensemble);
        Mtkd.Training.AtomicFile.WriteAllText(Path.Combine(directory, "teachers.json"), System.Text.Json.JsonSerializer.Serialize(report,
            new System.Text.Json.JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase }));
        JsonOutput.WriteIfAsked(json, report);
        return 0;
    }
}
