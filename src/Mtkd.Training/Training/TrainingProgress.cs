namespace Mtkd.Training.Training;

/// <summary>Reported after every training step.</summary>
public readonly record struct TrainingProgress(int Epoch, int Epochs, int Step, int StepsPerEpoch, double Loss)
{
    /// <summary>Fraction of the whole run done, in [0, 1].</summary>
    public double Fraction => ((Epoch - 1) * (double)StepsPerEpoch + Step) / ((double)Epochs * StepsPerEpoch);
}

/// <summary>Summary of one finished epoch.</summary>
public sealed record EpochSummary(int Epoch, double MeanLoss, double TrainAccuracy, double Seconds);
