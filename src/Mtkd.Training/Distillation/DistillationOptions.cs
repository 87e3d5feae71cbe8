namespace Mtkd.Training.Distillation;

/// <summary>Settings of the distillation loss.</summary>
public sealed class DistillationOptions
{
    /// <summary>Softmax temperature T for teachers and student. Default 4.</summary>
    public double Temperature { get; set; } = 4.0;

    /// <summary>Weight α of the hard-label cross-entropy; the soft term gets 1 − α. Default 0.5.</summary>
    public double Alpha { get; set; } = 0.5;

    internal void Validate()
    {
        if (!(Temperature > 0)) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must be positive.");
        if (Alpha is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "Alpha must be in [0, 1].");
    }
}
