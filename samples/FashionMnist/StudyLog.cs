using Mtkd.Training.Engine;

namespace Mtkd.Samples.FashionMnist;

/// <summary>Where the study reports what it is doing.</summary>
public interface IStudyLog
{
    void Line(string text);

    IProgress<TrainingProgress> Progress(string what);
}

/// <summary>Timestamped lines on the console, one per finished epoch.</summary>
public sealed class ConsoleStudyLog(bool epochs) : IStudyLog
{
    public void Line(string text) => Console.WriteLine($"{DateTime.Now:HH:mm:ss} {text}");

    public IProgress<TrainingProgress> Progress(string what) => new OnThisThread(p =>
    {
        if (p.Message is { } message) Line($"  {what}: {message}");
        else if (epochs && p.Completed is { } e)
            Line($"  {what} epoch {e.Epoch}/{p.Epochs}: loss {e.MeanLoss:F4}, train {e.TrainAccuracy:P2}" +
                (e.ValidationAccuracy is { } v ? $", held-out {v:P2}" : "") + $", {e.Seconds:F1} s");
    });

    // Reports at once on the training thread (Progress<T> would post to a synchronisation context and lag behind).
    private sealed class OnThisThread(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
