namespace Mtkd.Training.Training;

/// <summary>Random augmentation of training batches, on tensors; each kind is off unless set.</summary>
public sealed class AugmentationOptions
{
    /// <summary>Random shift (crop after zero padding) by up to this many pixels each way. Default 0: off.</summary>
    public int ShiftPixels { get; set; }

    /// <summary>Mirror half of the images left to right. Default false (digits and text should not be flipped).</summary>
    public bool HorizontalFlip { get; set; }

    /// <summary>Random rotation by up to this many degrees either way. Default 0: off.</summary>
    public double RotationDegrees { get; set; }

    public bool Any => ShiftPixels > 0 || HorizontalFlip || RotationDegrees > 0;

    internal void Validate()
    {
        if (ShiftPixels < 0) throw new ArgumentOutOfRangeException(nameof(ShiftPixels), ShiftPixels, "Shift must not be negative.");
        if (RotationDegrees is < 0 or > 180) throw new ArgumentOutOfRangeException(nameof(RotationDegrees), RotationDegrees, "Rotation must be in [0, 180] degrees.");
    }
}
