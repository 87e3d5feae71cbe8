using Mtkd.Training.Data;

namespace Mtkd.Samples.Images;

/// <summary>One image file and its class (the name of the folder it sits in).</summary>
public sealed record LabelledImage(string Path, string Label);

/// <summary>The images of one run, split three ways, with the files that were left out, and the source that reads them.</summary>
public sealed record ImageSplits(
    IReadOnlyList<LabelledImage> Train, IReadOnlyList<LabelledImage> Validation, IReadOnlyList<LabelledImage> Test,
    IReadOnlyList<string> Classes, IReadOnlyList<SkippedImage> Skipped, bool SplitsGiven, ImageFileSource Source);

/// <summary>
/// Reads an image-classification folder through Mtkd's <see cref="DatasetSource"/> with the samples' three-way split:
/// <c>ROOT/&lt;class&gt;/*.jpg|png</c>, split by a seeded shuffle within each class, or <c>ROOT/train|val|test/&lt;class&gt;/...</c>
/// when the splits are given (a missing <c>val</c> is held out of <c>train</c>). Every file is checked with
/// <see cref="ImageCheck"/> first, so a bad file is named and left out rather than failing the pipeline later or
/// being read as something it is not.
/// </summary>
public static class ImageFolder
{
    private static readonly string[] Extensions = [".jpg", ".jpeg", ".png"];

    /// <param name="root">The folder.</param>
    /// <param name="check">Which images are fit to use.</param>
    /// <param name="validationFraction">Share of each class held out for validation (and, without given splits, the same share for testing).</param>
    /// <param name="seed">Seed of the shuffle.</param>
    /// <param name="ignore">Folders that are never classes or splits, such as a run's output folder placed inside the image folder.</param>
    public static ImageSplits Load(string root, ImageCheck check, double validationFraction, int seed, IEnumerable<string>? ignore = null)
    {
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"Image folder '{root}' does not exist; expected ROOT/<class>/*.jpg|png or ROOT/train|val|test/<class>/*.jpg|png.");
        var options = new SplitOptions(validationFraction, validationFraction, seed)
        {
            Check = check.Problem, IgnoredFolders = (ignore ?? []).ToArray(), Extensions = Extensions,
        };
        var source = (ImageFileSource)DatasetSource.Resolve(root, "image folder", options);
        if (!source.HasLabels)
            throw new InvalidDataException($"'{root}' has 0 class folder(s); expected one folder per class, at least two.");
        IReadOnlyList<LabelledImage> Split(string split) =>
            source.HasSplit(split) ? source.Files(split).Select(f => new LabelledImage(f.Path, source.ClassNames[f.Label])).ToArray() : [];
        return new ImageSplits(Split("train"), Split("val"), Split("test"), source.ClassNames, source.Skipped, source.SplitsGiven, source);
    }
}
