namespace Mtkd.Samples.Images;

/// <summary>Writes a labelled folder of synthetic images, <c>ROOT/&lt;class&gt;/*</c>, the same for the same seed on every run.</summary>
public interface ISyntheticImages
{
    /// <summary>What the images show, for the README that goes beside them.</summary>
    string Description { get; }

    /// <summary>Changes whenever the drawing changes, so an old folder is drawn again rather than reused.</summary>
    int Version { get; }

    /// <summary>Draws image <paramref name="index"/> of <paramref name="positive"/> or negative class at the given size, in its file format.</summary>
    (byte[] Encoded, string Extension) Draw(bool positive, int index, int seed, int height, int width);
}

/// <summary>What makes one sample what it is: its classes, image size, decision policy and synthetic images.</summary>
public sealed record SampleDefinition
{
    /// <summary>Short name: the default output folder and the synthetic images' file prefix.</summary>
    public required string Name { get; init; }

    /// <summary>One line for the console and the plots.</summary>
    public required string Title { get; init; }

    /// <summary>Folder (class) name of the images without the finding.</summary>
    public required string NegativeClass { get; init; }

    /// <summary>Folder (class) name of the images with the finding; its probability is what the threshold applies to.</summary>
    public required string PositiveClass { get; init; }

    /// <summary>Model input height in pixels.</summary>
    public required int Height { get; init; }

    /// <summary>Model input width in pixels.</summary>
    public required int Width { get; init; }

    /// <summary>How the decision threshold is chosen on validation data, given the <c>--target-recall</c> value.</summary>
    public required Func<double, ThresholdPolicy> Threshold { get; init; }

    /// <summary>Default of <c>--target-recall</c>; null when the sample's policy does not use one.</summary>
    public double? DefaultTargetRecall { get; init; }

    public required ISyntheticImages Synthetic { get; init; }
}
