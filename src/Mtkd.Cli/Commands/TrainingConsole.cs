using Mtkd.Training.Engine;
using Spectre.Console;

namespace Mtkd.Cli.Commands;

/// <summary>Renders training progress as a bar per stage, with epoch summaries and the loop's messages printed above it.</summary>
internal static class TrainingConsole
{
    public static T Run<T>(string title, Func<Func<string, IProgress<TrainingProgress>>, T> work)
    {
        T result = default!;
        AnsiConsole.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                result = work(stage =>
                {
                    var task = context.AddTask(Markup.Escape(stage), maxValue: 1.0);
                    return new Reporter(task);
                });
            });
        return result;
    }

    private sealed class Reporter(ProgressTask task) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            task.Value = Math.Clamp(p.Fraction, 0, 1);
            if (p.Message is { } message)
                AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(message)}[/]");
            if (p.Completed is { } e)
            {
                AnsiConsole.MarkupLine(Markup.Escape($"{task.Description}: epoch {e.Epoch}/{p.Epochs} loss {e.MeanLoss:F4}, train {e.TrainAccuracy:P2}" +
                    (e.ValidationAccuracy is { } v ? $", validation {v:P2}" : "") + $", lr {e.LearningRate:G3}, {e.Seconds:F1} s"));
                if (e.Epoch == p.Epochs) task.Value = 1;
            }
        }
    }
}
