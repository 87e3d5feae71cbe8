using System.CommandLine;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.SoftLabels;
using Mtkd.Training.Engine;
using Spectre.Console;

namespace Mtkd.Cli.Commands;

/// <summary><c>mtkd teachers</c>: trains an ensemble (seeds, bagging, cross-fitting or snapshots) and exports every teacher to ONNX.</summary>
internal static class TeachersCommand
{
    public sealed record Teacher(string Path, string Metrics, double TestAccuracy, long Parameters, int Epochs);

    public sealed record Report(string Method, string Architecture, int Count, double Fraction, IReadOnlyList<Teacher> Teachers);

    private static readonly string[] Methods = ["seeds", "bagging", "cross-fit", "snapshot"];

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
                "or snapshot (one run, a snapshot per cosine cycle).",
            DefaultValueFactory = _ => "seeds",
        };
        OutputChecks.OneOf(method, Methods);
        var folds = new Option<int?>("--folds") { Description = "Cross-fit: number of folds, and of teachers (default --count)." };
        var cycle = new Option<int?>("--cycle-epochs") { Description = "Snapshot: epochs per cycle (default: --epochs)." };
        var arch = new Option<string>("--arch") { Description = $"Architecture: {string.Join(", ", NetworkPresets.Names)}.", DefaultValueFactory = _ => NetworkPresets.TeacherCnn };
        var width = new Option<int?>("--width") { Description = "Base channel count of the architecture (default: the preset's)." };
        var output = new Option<string>("--out") { Description = "Folder for teacher-<i>.onnx, teacher-<i>.csv and teachers.json.", Required = true };
        var json = new Option<string?>("--json") { Description = "Also write the report as JSON to this file." };
        var training = new TrainingFlags(defaultEpochs: 5, defaultStopOn: EarlyStoppingMetric.ValidationAccuracy);
        var command = new Command("teachers", "Train an ensemble of teachers and export each to ONNX.") { count, fraction, method, folds, cycle, arch, width, output, json };
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
            if (how != "bagging" && parse.GetResult(fraction) is { Implicit: false })
                throw new ArgumentException($"--fraction is for --method bagging; --method {how} trains every teacher on {(how == "cross-fit" ? "all folds but one" : "all the training images")}.");
            if (how == "bagging" && !(parse.GetValue(fraction) is > 0 and <= 1)) // NaN fails too
                throw new ArgumentException($"--fraction {parse.GetValue(fraction)} is not in (0, 1]: it is the share of the training images each teacher trains on.");
            var options = training.Options(parse);
            // On accuracy: the validation loss turns up long before the accuracy stops rising; --patience 0 turns it off.
            if (leavesRowsOut && !training.PatienceGiven(parse)) options.EarlyStoppingPatience = DefaultPatience;
            var images = training.LoadData(parse, data.Request(parse, cancellation: cancellation), holdOutForPatience: !leavesRowsOut);
            var spec = NetworkPresets.Get(parse.GetValue(arch)!, parse.GetValue(width));
            if (how == "cross-fit" && k > images.Train.Count)
                throw new ArgumentException($"--folds {k}: more folds than the {images.Train.Count} training images.");
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
                OnnxExporter.Export(t.Network, path, new OnnxExportOptions
                {
                    ClassNames = images.Test.ClassNames, Resize = images.Resize, Normalization = images.Normalization, FeaturesName = "features",
                    TrainingRows = trainingRows,
                });
                var (_, accuracy) = NetworkTrainer.Evaluate(t.Network, images.Test);
                teachers.Add(new Teacher(path, method == "snapshot" ? Path.Combine(directory, "snapshots.csv") : Path.Combine(directory, $"teacher-{t.Index}.csv"),
                    accuracy, t.Network.ParameterCount, t.History.Count));
            }
        }
        finally
        {
            foreach (var t in generated) t.Network.Dispose();
        }
        var table = new Table().AddColumn("Teacher").AddColumn(new TableColumn("Test accuracy").RightAligned()).AddColumn(new TableColumn("Parameters").RightAligned());
        foreach (var t in teachers) table.AddRow(Markup.Escape(t.Path), $"{t.TestAccuracy * 100:0.00} %", t.Parameters.ToString("N0"));
        AnsiConsole.Write(table);
        var report = new Report(method, architecture, teachers.Count, fraction, teachers);
        Mtkd.Training.AtomicFile.WriteAllText(Path.Combine(directory, "teachers.json"), System.Text.Json.JsonSerializer.Serialize(report,
            new System.Text.Json.JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase }));
        JsonOutput.WriteIfAsked(json, report);
        return 0;
    }
}
