using System.Globalization;
using Mtkd.Training.Distillation;

namespace Mtkd.Training.Engine;

/// <summary>One setting of a sweep: T, α and the accuracy its student reached on the validation images.</summary>
public sealed record SweepPoint(double Temperature, double Alpha, double ValidationAccuracy);

/// <summary>
/// Chooses the temperature and α of a job on its validation images, never on the test set: the job runs once per
/// (T, α) with everything else equal (the same seed: the same initial weights, batches and augmentation), each
/// student is evaluated on the validation images, and the best is kept (on a tie, the earlier setting). Losing
/// students are freed as soon as they lose. Each setting keeps its own checkpoints and metrics ("-T{t}-a{α}" before
/// the job's paths' extension), so a stopped sweep resumes where it was.
/// </summary>
public static class DistillationSweep
{
    /// <summary>Runs the sweep; the caller owns <c>Best</c>. <c>Points</c> lists every setting in the order run.</summary>
    /// <param name="job">The job; it needs validation images (<see cref="DistillationJob.Validation"/> or a <see cref="DistillationJob.ValidationFraction"/>).</param>
    /// <param name="temperatures">The temperatures to try (each positive).</param>
    /// <param name="alphas">The hard-label weights α to try (each in [0, 1]).</param>
    /// <param name="cancellation">Stops the run in progress (its checkpoints stay for a resume).</param>
    public static (DistillationResult Best, SweepPoint Chosen, IReadOnlyList<SweepPoint> Points) Run(DistillationJob job, IReadOnlyList<double> temperatures,
        IReadOnlyList<double> alphas, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(temperatures);
        ArgumentNullException.ThrowIfNull(alphas);
        if (temperatures.Count == 0 || alphas.Count == 0)
            throw new ArgumentException("A sweep needs one or more temperatures and one or more α values.");
        if (job.Validation is null && !(job.ValidationFraction > 0))
            throw new ArgumentException("A sweep chooses T and α on validation images: give the job Validation data or a ValidationFraction (never the test set).");
        var settings = temperatures.SelectMany(t => alphas.Select(a => (T: t, Alpha: a))).ToArray();
        foreach (var (t, a) in settings)
        {
            var options = job.Distillation.Clone();
            options.Temperature = t;
            options.Alpha = a;
            options.Validate(); // every setting is checked before the first one trains
        }

        var points = new List<SweepPoint>();
        DistillationResult? best = null;
        SweepPoint? chosen = null;
        try
        {
            foreach (var (t, a) in settings)
            {
                cancellation.ThrowIfCancellationRequested();
                var distillation = job.Distillation.Clone();
                distillation.Temperature = t;
                distillation.Alpha = a;
                var trainer = job.Trainer.ForRun(string.Create(CultureInfo.InvariantCulture, $"-T{t}-a{a}"));
                var result = (job with { Distillation = distillation, Trainer = trainer }).Run(cancellation);
                var point = new SweepPoint(t, a, NetworkTrainer.Evaluate(result.Student, result.Validation!).Accuracy);
                points.Add(point);
                if (chosen is null || point.ValidationAccuracy > chosen.ValidationAccuracy)
                {
                    best?.Dispose();
                    (best, chosen) = (result, point);
                }
                else result.Dispose();
            }
            return (best!, chosen!, points);
        }
        catch
        {
            best?.Dispose();
            throw;
        }
    }
}
