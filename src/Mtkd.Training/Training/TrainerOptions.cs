namespace Mtkd.Training.Training;

/// <summary>Optimization settings shared by teacher training and distillation.</summary>
public sealed class TrainerOptions
{
    /// <summary>Passes over the training data. Default 5.</summary>
    public int Epochs { get; set; } = 5;

    /// <summary>Images per step. Default 128.</summary>
    public int BatchSize { get; set; } = 128;

    /// <summary>Adam learning rate. Default 0.002.</summary>
    public double LearningRate { get; set; } = 2e-3;

    /// <summary>Seed of weight initialization and batch order; the same seed gives the same weights on CPU. Default 1.</summary>
    public int Seed { get; set; } = 1;

    internal void Validate()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Need at least one epoch.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "Batch size must be positive.");
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "Learning rate must be positive.");
    }
}
