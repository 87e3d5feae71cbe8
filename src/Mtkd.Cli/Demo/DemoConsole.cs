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
        var table = new Table().Title($"Fashion-MNIST: {report.TrainImages:N0} training images, {report.TestImages:N0} test images")
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

        public void FinishLast()
        {
            if (current is { } task)
                task.Value = task.MaxValue;
        }
    }
}
