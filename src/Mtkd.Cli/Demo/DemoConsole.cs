using Mtkd.Training.Engine;
using Spectre.Console;

namespace Mtkd.Cli.Demo;

/// <summary>Renders the demo: progress bars while it runs, then the results table.</summary>
internal static class DemoConsole
{
    public static DemoReport RunWithProgress(DemoRunner.Factory createRunner, CancellationToken cancellation)
    {
        DemoReport? report = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var observer = new ProgressObserver(context);
                report = createRunner(observer).Run(cancellation);
                observer.FinishLast();
            });
        return report!;
    }

    public static void PrintTable(DemoReport report)
    {
        var table = new Table().Title($"Fashion-MNIST, seed {report.Seed}: {report.LabeledImages:N0} labelled and {report.TrainImages - report.LabeledImages:N0} unlabelled training images, {report.TestImages:N0} test images")
            .AddColumn("Model").AddColumn(new TableColumn("Test accuracy").RightAligned()).AddColumn(new TableColumn("Parameters").RightAligned());
        foreach (var t in report.Teachers)
            table.AddRow(t.Name, Percent(t.Accuracy), t.Parameters.ToString("N0"));
        table.AddRow($"ensemble ({report.Ensemble.Method})", Percent(report.Ensemble.Accuracy), report.Ensemble.Parameters.ToString("N0"));
        double best = report.Teachers.Max(t => t.Accuracy);
        table.AddRow("same student, trained on the labels", Percent(report.Baseline.Accuracy), report.Baseline.Parameters.ToString("N0"));
        table.AddRow("[bold]student (distilled)[/]", $"[bold]{Percent(report.Student.Accuracy)}[/]", $"[bold]{report.Student.Parameters:N0}[/]");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(
            $"Distilled vs the same student trained on the labels: [bold]{Points(report.Student.Accuracy - report.Baseline.Accuracy)}[/] points " +
            $"(the ensemble leads that student by {Points(report.Ensemble.Accuracy - report.Baseline.Accuracy)}); vs best teacher: {Points(report.Student.Accuracy - best)}, " +
            $"vs ensemble: {Points(report.Student.Accuracy - report.Ensemble.Accuracy)} points; " +
            $"{(double)report.Ensemble.Parameters / report.Student.Parameters:0.#}× fewer parameters than the ensemble. Total {report.TotalSeconds:0} s.");
    }

    public static void PrintSeeds(DemoSeedsReport report)
    {
        if (report.Setting is { } setting) AnsiConsole.MarkupLine($"[bold]{Markup.Escape(setting)}[/]");
        var table = new Table().Title($"Fashion-MNIST, {report.Seeds.Count} seeds: test accuracy, %")
            .AddColumn("Seed").AddColumn(new TableColumn("Ensemble").RightAligned()).AddColumn(new TableColumn("Same student, labels").RightAligned())
            .AddColumn(new TableColumn("Student (distilled)").RightAligned()).AddColumn(new TableColumn("G").RightAligned());
        foreach (var s in report.Seeds)
            table.AddRow(s.Seed.ToString(), Percent(s.Ensemble.Accuracy), Percent(s.Baseline.Accuracy), Percent(s.Student.Accuracy), Points(s.Student.Accuracy - s.Baseline.Accuracy));
        table.AddRow("[bold]mean ± SE[/]", report.Ensemble.ToString(), report.Baseline.ToString(), $"[bold]{report.Student}[/]",
            $"[bold]{Signed(report.Gain)}[/]");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(
            $"G, the distilled student's gain over the same network trained on the labels (paired by seed): [bold]{Signed(report.Gain)}[/] points, " +
            (report.GainSignificant ? "more than twice its standard error" : "[yellow]not more than twice its standard error[/]") +
            $"; the ensemble leads that network by {Signed(report.Lead)}.");
    }

    private static string Signed(MeanSe value) => value.Mean >= 0 ? "+" + value : value.ToString().Replace("-", "−");

    private static string Percent(double accuracy) => $"{accuracy * 100:0.00} %";

    private static string Points(double difference) => $"{difference * 100:+0.00;-0.00}";

    private sealed class ProgressObserver(ProgressContext context) : IStageObserver
    {
        private ProgressTask? current;

        public IProgress<double> Begin(string stage)
        {
            FinishLast();
            var task = context.AddTask(Markup.Escape(stage), maxValue: 1.0);
            current = task;
            // Spectre's tasks are thread-safe; report synchronously so the bar follows the training loop.
            return new SynchronousProgress<double>(fraction => task.Value = Math.Clamp(fraction, 0, 1));
        }

        // Spectre writes lines above the live progress display.
        public void Note(string line) => AnsiConsole.MarkupLine($"[bold]{Markup.Escape(line)}[/]");

        public void FinishLast()
        {
            if (current is { } task)
                task.Value = task.MaxValue;
        }
    }
}
