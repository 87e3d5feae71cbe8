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
        var quick = new Option<bool>("--quick") { Description = "A run small enough for a test: 2,000 training and 1,000 test images, one epoch each." };
        var json = new Option<string?>("--json") { Description = "Also write the figures as JSON to this file." };
        var data = new Option<string>("--data") { Description = "Folder with the Fashion-MNIST IDX .gz files.", DefaultValueFactory = _ => defaults.DataDirectory };
        var output = new Option<string>("--out") { Description = "Folder for the teachers, the student and the report.", DefaultValueFactory = _ => defaults.OutputDirectory };
        var teachers = new Option<int>("--teachers") { Description = "Number of teachers.", DefaultValueFactory = _ => defaults.TeacherCount };
        var fraction = new Option<double>("--fraction") { Description = "Share of the training set each teacher trains on.", DefaultValueFactory = _ => defaults.TeacherFraction };
        var teacherEpochs = new Option<int?>("--teacher-epochs") { Description = $"Epochs per teacher (default {defaults.TeacherEpochs}; 1 with --quick)." };
        var studentEpochs = new Option<int?>("--student-epochs") { Description = $"How many times each student sees every training image's worth of " +
            $"views (default {defaults.StudentEpochs}; 1 with --quick)." };
        var views = new Option<int>("--views") { Description = "Views per training image in the pool both students learn from, scored once by the " +
            "teachers (1: the images as they are).", DefaultValueFactory = _ => defaults.Views };
        var temperature = new Option<double>("--temperature") { Description = "Distillation temperature T.", DefaultValueFactory = _ => defaults.Temperature };
        var alpha = new Option<double>("--alpha") { Description = "Weight of the hard-label loss.", DefaultValueFactory = _ => defaults.Alpha };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => defaults.Seed };

        var command = new Command("demo", "Train teachers on Fashion-MNIST, distill a small student from them, and compare accuracy and size.")
        {
            quick, json, data, output, teachers, fraction, teacherEpochs, studentEpochs, views, temperature, alpha, seed,
        };
        command.SetAction((parse, cancellation) =>
        {
            var settings = new DemoSettings
            {
                DataDirectory = parse.GetValue(data)!,
                OutputDirectory = parse.GetValue(output)!,
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
            return Task.FromResult(RunDemo(settings, parse.GetValue(json), cancellation));
        });
        return command;
    }

    private static int RunDemo(DemoSettings settings, string? jsonPath, CancellationToken cancellation)
    {
        try
        {
            var report = DemoConsole.RunWithProgress(observer => new DemoRunner(settings, observer), cancellation);
            DemoConsole.PrintTable(report);
            if (jsonPath is not null)
            {
                AtomicFile.WriteAllText(jsonPath, report.ToJson());
                AnsiConsole.MarkupLine($"Figures written to [blue]{Markup.Escape(jsonPath)}[/].");
            }
            AnsiConsole.MarkupLine($"Models written to [blue]{Markup.Escape(settings.OutputDirectory)}[/].");
            return 0;
        }
        catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException or ArgumentException or InvalidOperationException)
        {
            AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(ex.Message)}");
            return 1;
        }
    }
}
