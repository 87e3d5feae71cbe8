namespace Mtkd.Samples.Tabular;

/// <summary>One run's settings, from the command line.</summary>
public sealed record TabularSettings(string Out, string Data, int Labels, int[] Seeds, int Epochs, bool Quick)
{
    /// <summary>Where Debian's python3-sklearn puts the handwritten digits: 1,797 rows of 64 pixel values (0–16) and the digit.</summary>
    public const string DigitsPath = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz";

    /// <summary>The share of the rows held out for testing, the same rows for every seed.</summary>
    public const double TestFraction = 0.3;
}
