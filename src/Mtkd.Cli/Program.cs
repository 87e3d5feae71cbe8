using Mtkd.Shared;
using System.CommandLine;
using Mtkd.Cli.Commands;
using Mtkd.Cli.Demo;
using Mtkd.Training;
using Mtkd.Training.Data;
using Spectre.Console;

namespace Mtkd.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        CliErrors.Verbose = args.Contains("--verbose");
        var parse = BuildCommand().Parse(args);
        if (parse.Errors.Count > 0)
        {
            // A command line that does not parse is a usage error: exit code 2, on stderr, as POSIX tools do.
            foreach (var error in parse.Errors)
                CliErrors.Error.MarkupLine($"[red]error:[/] {Markup.Escape(error.Message)}");
            CliErrors.Error.MarkupLine("Run mtkd --help (or mtkd COMMAND --help) for the usage.");
            return CliErrors.UsageError;
        }
        // Ctrl+C or SIGTERM cancels the run between steps; the time allows the step and its checkpoint to finish.
        return parse.Invoke(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromMinutes(2) });
    }

    internal static RootCommand BuildCommand()
    {
        var root = new RootCommand("mtkd: compress an ensemble of neural networks into one small model by multi-teacher knowledge distillation.");
        root.Options.Add(new Option<bool>("--verbose") { Description = "Print the stack trace of an unexpected error (a bug in Mtkd), not just its message.", Recursive = true });
        root.Subcommands.Add(DemoCommand());
        root.Subcommands.Add(TeachersCommand.Create());
        root.Subcommands.Add(ScoreCommand.Create());
        root.Subcommands.Add(FuseCommand.Create());
        root.Subcommands.Add(DistillCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        return root;
    }

    private static Command DemoCommand()
    {
        var defaults = new DemoSettings();
        var quick = new Option<bool>("--quick") { Description = "A run small enough for a test: 2,000 training images (500 labelled), 1,000 test images, short training." };
        var json = new Option<string?>("--json") { Description = "Also write the figures as JSON to this file." };
        var data = new Option<string>("--data") { Description = "Folder with the Fashion-MNIST IDX .gz files.", DefaultValueFactory = _ => defaults.DataDirectory };
        var output = new Option<string>("--out") { Description = "Folder for the teachers, the student and the report.", DefaultValueFactory = _ => defaults.OutputDirectory };
        var labels = new Option<int?>("--labels") { Description = $"Labelled training images: the first N (default {defaults.Labels:N0}); the others train " +
            "unlabelled, taught by the teachers alone. 0: every image labelled." };
        var teachers = new Option<int>("--teachers") { Description = "Number of teachers.", DefaultValueFactory = _ => defaults.TeacherCount };
        var fraction = new Option<double>("--fraction") { Description = "Share of the labelled images each teacher trains on (1: all of them, each teacher from " +
            "its own seed; less: a random subset per teacher).", DefaultValueFactory = _ => defaults.TeacherFraction };
        var teacherEpochs = new Option<int?>("--teacher-epochs") { Description = $"Epochs per teacher (default: {DemoSettings.TeacherImages:N0} images' worth, " +
            "200 epochs of 1,000 labels; 2 with --quick)." };
        var studentEpochs = new Option<int?>("--student-epochs") { Description = $"How many times the distilled student sees every training image's worth of " +
            $"views (default {defaults.StudentEpochs}; 1 with --quick); the label-trained student sees as many images." };
        var views = new Option<int>("--views") { Description = "Views per training image in the pool the distilled student learns from, scored once by the " +
            "teachers (1: the images as they are).", DefaultValueFactory = _ => defaults.Views };
        var temperature = new Option<double>("--temperature") { Description = "Distillation temperature T.", DefaultValueFactory = _ => defaults.Temperature };
        var alpha = new Option<double>("--alpha") { Description = "Weight of the hard-label loss.", DefaultValueFactory = _ => defaults.Alpha };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => defaults.Seed };
        var seeds = new Option<int[]>("--seeds") { Description = "Run once per seed (OUT/seed-N; a seed already run with the same settings is reused) and " +
            "report the mean ± standard error and the gain paired by seed, e.g. --seeds 1 2 3.", AllowMultipleArgumentsPerToken = true };

        var command = new Command("demo", "Train teachers on Fashion-MNIST, distill a small student from them, and compare it with the same network trained on the labels.")
        {
            quick, json, data, output, labels, teachers, fraction, teacherEpochs, studentEpochs, views, temperature, alpha, seed, seeds,
        };
        command.SetAction((parse, cancellation) =>
        {
            var settings = new DemoSettings
            {
                DataDirectory = parse.GetValue(data)!,
                OutputDirectory = parse.GetValue(output)!,
                Labels = parse.GetValue(labels) is int n ? (n == 0 ? null : n) : defaults.Labels,
                TeacherCount = parse.GetValue(teachers),
                TeacherFraction = parse.GetValue(fraction),
                Temperature = parse.GetValue(temperature),
                Alpha = parse.GetValue(alpha),
                Seed = parse.GetValue(seed),
                Views = parse.GetValue(views),
            };
            if (parse.GetValue(quick))
                settings = DemoSettings.Quick(settings);
            settings = settings with
            {
                TeacherEpochs = parse.GetValue(teacherEpochs) ?? settings.TeacherEpochs,
                StudentEpochs = parse.GetValue(studentEpochs) ?? settings.StudentEpochs,
            };
            return Task.FromResult(RunDemo(settings, parse.GetValue(seeds), parse.GetValue(json), cancellation));
        });
        return command;
    }

    private static int RunDemo(DemoSettings settings, int[]? seeds, string? jsonPath, CancellationToken cancellation) => CliErrors.Run(() =>
    {
        Check(settings);
        OutputChecks.FileIfGiven(jsonPath, "--json");
        string json;
        if (seeds is { Length: > 0 })
        {
            var report = DemoSeeds.Run(settings, seeds, s => DemoConsole.RunWithProgress(observer => new DemoRunner(s, observer), cancellation),
                line => AnsiConsole.MarkupLine(Markup.Escape(line)), cancellation);
            DemoConsole.PrintSeeds(report);
            json = report.ToJson();
        }
        else
        {
            var report = DemoConsole.RunWithProgress(observer => new DemoRunner(settings, observer), cancellation);
            DemoConsole.PrintTable(report);
            json = report.ToJson();
        }
        if (jsonPath is not null)
        {
            AtomicFile.WriteAllText(jsonPath, json);
            AnsiConsole.MarkupLine($"Figures written to [blue]{Markup.Escape(jsonPath)}[/].");
        }
        AnsiConsole.MarkupLine($"Models written to [blue]{Markup.Escape(settings.OutputDirectory)}[/].");
        return 0;
    });

    // The demo's numbers, checked before any data is read.
    private static void Check(DemoSettings settings)
    {
        if (settings.Labels is < 1) throw new ArgumentException($"--labels {settings.Labels}: expected a positive number of labelled images, or 0 for all.");
        if (settings.TeacherCount < 1) throw new ArgumentException($"--teachers {settings.TeacherCount}: expected one or more.");
        if (!(settings.TeacherFraction is > 0 and <= 1)) throw new ArgumentException($"--fraction {settings.TeacherFraction}: expected a share in (0, 1].");
        if (settings.TeacherEpochs is < 1) throw new ArgumentException($"--teacher-epochs {settings.TeacherEpochs}: expected one or more.");
        if (settings.StudentEpochs < 1) throw new ArgumentException($"--student-epochs {settings.StudentEpochs}: expected one or more.");
        if (settings.Views < 1) throw new ArgumentException($"--views {settings.Views}: expected one or more.");
        if (!(settings.Temperature > 0) || double.IsInfinity(settings.Temperature)) throw new ArgumentException($"--temperature {settings.Temperature}: expected a positive number.");
        if (!(settings.Alpha is >= 0 and <= 1)) throw new ArgumentException($"--alpha {settings.Alpha}: expected a weight in [0, 1].");
    }
}
