namespace Mtkd.Training.Data;

/// <summary>
/// A seeded three-way split for image data that names no splits, as the image samples use it: within each class
/// (classes in order, one shuffle stream), round((v + t)·n) images are held out, and of those round(t / (v + t)·held)
/// are the test split, the rest validation. Data with train and test folders keeps them, and without a val folder
/// holds out round(v·n) of each training class. Files a <see cref="Check"/> refuses are left out before splitting
/// (<see cref="ImageFileSource.Skipped"/> lists them).
/// </summary>
/// <param name="ValidationFraction">v, the validation share of each class, in (0, 0.5).</param>
/// <param name="TestFraction">t, the test share of each class, in (0, 0.5).</param>
/// <param name="Seed">Seeds the shuffles.</param>
public sealed record SplitOptions(double ValidationFraction, double TestFraction, int Seed)
{
    /// <summary>What is wrong with an image file, or null when it is fit to use. Default null: every decodable extension is used.</summary>
    public Func<string, string?>? Check { get; init; }

    /// <summary>Folders that are never classes or splits, such as a run's output folder placed inside the image folder. Default none.</summary>
    public IReadOnlyList<string> IgnoredFolders { get; init; } = [];

    /// <summary>The file extensions to read (lower case, with the dot). Default null: every extension the decoder reads.</summary>
    public IReadOnlyList<string>? Extensions { get; init; }

    internal void Validate()
    {
        if (ValidationFraction is <= 0 or >= 0.5)
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "The validation share must be in (0, 0.5).");
        if (TestFraction is <= 0 or >= 0.5)
            throw new ArgumentOutOfRangeException(nameof(TestFraction), TestFraction, "The test share must be in (0, 0.5).");
    }
}
