namespace Mtkd.Training.Engine;

/// <summary>
/// Reported after every training step; the report after an epoch's last step also carries that epoch's summary,
/// and a report with a <see cref="Message"/> tells of a decision (device fallback, resume, early stop).
/// </summary>
public readonly record struct TrainingProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, double Loss,
    EpochSummary? Completed = null, string? Message = null)
{
    /// <summary>Fraction of the whole run done, in [0, 1].</summary>
    public double Fraction => StepsPerEpoch == 0 ? 0 : ((Epoch - 1) * (double)StepsPerEpoch + Step) / ((double)Epochs * StepsPerEpoch);
}

/// <summary>Summary of one finished epoch; validation figures are null without validation data.</summary>
public sealed record EpochSummary(int Epoch, double MeanLoss, double TrainAccuracy, double Seconds,
    double? ValidationLoss = null, double? ValidationAccuracy = null, double LearningRate = 0);
