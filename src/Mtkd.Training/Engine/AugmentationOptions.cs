namespace Mtkd.Training.Engine;

/// <summary>Random augmentation of training batches, on tensors; each kind is off unless set.</summary>
public sealed class AugmentationOptions
{
    /// <summary>Random shift (crop after zero padding) by up to this many pixels each way. Default 0: off.</summary>
    [Flag("--shift", "Augmentation: random shift by up to this many pixels.")]
    public int ShiftPixels { get; set; }

    /// <summary>Mirror half of the images left to right. Default false (digits and text should not be flipped).</summary>
    [Flag("--flip", "Augmentation: random horizontal flips.")]
    public bool HorizontalFlip { get; set; }

    /// <summary>Random rotation by up to this many degrees either way. Default 0: off.</summary>
    [Flag("--rotate", "Augmentation: random rotation by up to this many degrees.")]
    public double RotationDegrees { get; set; }

    /// <summary>
    /// RandAugment (Cubuk et al. 2020): each image draws this many operations from shear, translate, rotate,
    /// brightness, contrast, posterize, solarize, autocontrast and identity, at <see cref="RandAugmentMagnitude"/>;
    /// the stronger augmentation MTKD trains its teachers with. Pixels are taken to be in [0, 1]. Default 0: off
    /// (2 is the paper's usual setting).
    /// </summary>
    [Flag("--rand-augment", "Augmentation: RandAugment, this many operations per image (2 is usual; 0 is off).")]
    public int RandAugmentOps { get; set; }

    /// <summary>RandAugment's magnitude on torchvision's scale, 0 (none) to 30 (shear 0.3, rotation 30°, …). Default 9.</summary>
    [Flag("--rand-augment-magnitude", "RandAugment's magnitude, 0 to 30 (torchvision's scale).")]
    public int RandAugmentMagnitude { get; set; } = 9;

    /// <summary>
    /// Mixup (Zhang et al. 2018): each batch becomes λ·x + (1 − λ)·x[perm] with λ ~ Beta(a, a), and so do its label
    /// targets; stored teacher probabilities are mixed alike, online teachers score the mixed images. This is a, the
    /// Beta parameter (1 draws λ uniformly). Default 0: off.
    /// </summary>
    [Flag("--mixup", "Mixup on every batch, λ ~ Beta(a, a): this is a (1 is uniform; 0 is off). Labels and soft targets are mixed alike.")]
    public double Mixup { get; set; }

    /// <summary>
    /// CutMix (Yun et al. 2019): a random box covering 1 − λ of each image is pasted from x[perm], λ ~ Beta(a, a),
    /// targets mixed by the box's true area. This is a. With <see cref="Mixup"/> also set, each batch uses one of the
    /// two, chosen at random with equal odds. Default 0: off.
    /// </summary>
    [Flag("--cutmix", "CutMix on every batch with Beta(a, a): this is a (0 is off); with --mixup, each batch uses one of the two.")]
    public double CutMix { get; set; }

    /// <summary>Whether any per-image augmentation (shift, flip, rotation, RandAugment) is on.</summary>
    public bool Any => ShiftPixels > 0 || HorizontalFlip || RotationDegrees > 0 || RandAugmentOps > 0;

    /// <summary>Whether batches are mixed (mixup or CutMix).</summary>
    public bool Mixes => Mixup > 0 || CutMix > 0;

    /// <summary>
    /// Refuses, naming them, the augmentations that move or cut pixels (shift, flip, rotation, RandAugment, CutMix) for
    /// data of feature vectors (F×1×1: tabular features or embeddings, no image shape); mixup mixes vectors and stays.
    /// </summary>
    public void CheckFits(Data.ImageDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (!data.IsFeatureVectors)
            return;
        var imageOnly = new (bool On, string Name)[]
        {
            (ShiftPixels > 0, nameof(ShiftPixels)), (HorizontalFlip, nameof(HorizontalFlip)), (RotationDegrees > 0, nameof(RotationDegrees)),
            (RandAugmentOps > 0, nameof(RandAugmentOps)), (CutMix > 0, nameof(CutMix)),
        }.Where(a => a.On).Select(a => a.Name).ToArray();
        if (imageOnly.Length > 0)
            throw new ArgumentException($"Augmentation {string.Join(", ", imageOnly)} {(imageOnly.Length == 1 ? "is" : "are")} for images; the data are feature vectors " +
                $"of {data.Channels} values (no image shape). Turn {(imageOnly.Length == 1 ? "it" : "them")} off (Mixup mixes vectors and may stay).");
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (ShiftPixels < 0) throw new ArgumentOutOfRangeException(nameof(ShiftPixels), ShiftPixels, "Shift must not be negative.");
        if (!(RotationDegrees is >= 0 and <= 180)) throw new ArgumentOutOfRangeException(nameof(RotationDegrees), RotationDegrees, "Rotation must be in [0, 180] degrees.");
        if (RandAugmentOps is < 0 or > 10) throw new ArgumentOutOfRangeException(nameof(RandAugmentOps), RandAugmentOps, "RandAugment's operations per image must be in [0, 10] (0 is off).");
        if (RandAugmentMagnitude is < 0 or > RandAugment.MaxMagnitude)
            throw new ArgumentOutOfRangeException(nameof(RandAugmentMagnitude), RandAugmentMagnitude, $"RandAugment's magnitude must be in [0, {RandAugment.MaxMagnitude}].");
        if (!(Mixup >= 0) || double.IsInfinity(Mixup)) throw new ArgumentOutOfRangeException(nameof(Mixup), Mixup, "Mixup's Beta parameter must be a finite number ≥ 0 (0 is off).");
        if (!(CutMix >= 0) || double.IsInfinity(CutMix)) throw new ArgumentOutOfRangeException(nameof(CutMix), CutMix, "CutMix's Beta parameter must be a finite number ≥ 0 (0 is off).");
    }
}
