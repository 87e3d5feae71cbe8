using Mtkd.Training.Data;
using Mtkd.Training.Networks;

namespace Mtkd.Cli.Demo;

/// <summary>
/// What `mtkd demo` runs. The defaults are the setting where distillation pays and the recipe that won it in the
/// Fashion-MNIST study: few labelled images (the first 1,000) and many unlabelled ones (the other 59,000 training
/// images), three teachers each trained on every label from its own seed, and a student 40× cheaper than their
/// ensemble that learns the labels and, on every image, the teachers' probabilities. About 12 minutes on a 2-core machine (measured 2026-12-02).
/// </summary>
public sealed record DemoSettings
{
    /// <summary>Fashion-MNIST folder. Default: the Debian package's.</summary>
    public string DataDirectory { get; init; } = FashionMnist.DefaultDirectory;

    /// <summary>Where teachers, the student (ONNX and ML.NET zip) and the report go. Default "out/demo".</summary>
    public string OutputDirectory { get; init; } = Path.Combine("out", "demo");

    /// <summary>Labelled training images: the first N of the training split; the others train unlabelled, taught by the teachers alone. Null: every image labelled. Default 1,000.</summary>
    public int? Labels { get; init; } = 1_000;

    public int TeacherCount { get; init; } = 3;

    /// <summary>Share of the labelled images each teacher sees: 1 (the default) trains each on all of them from its own seed (a deep ensemble), less a seeded random subset per teacher (bagging).</summary>
    public double TeacherFraction { get; init; } = 1.0;

    /// <summary>Teacher network: cnn-small at width 32, about 13× the student's multiply-accumulates each.</summary>
    public string TeacherArchitecture { get; init; } = NetworkPresets.CnnSmall;

    public int? TeacherWidth { get; init; } = 32;

    /// <summary>Epochs per teacher. Null (the default): a budget of 200,000 images seen, so 200 epochs of 1,000 labels.</summary>
    public int? TeacherEpochs { get; init; }

    /// <summary>Images a teacher sees when <see cref="TeacherEpochs"/> is not given.</summary>
    public const int TeacherImages = 200_000;

    /// <summary>
    /// How many times the distilled student sees every training image's worth of views (passes over the pool × views,
    /// rounded up to whole passes). The label-trained student sees as many images: its epochs over the labelled images
    /// are this × training images / labelled images. Default 20 (1.2 million images).
    /// </summary>
    public int StudentEpochs { get; init; } = 20;

    /// <summary>T. Default 1: the teachers' own probabilities, which a small student matches more easily (the study's winner with few labels).</summary>
    public double Temperature { get; init; } = 1.0;

    public double Alpha { get; init; } = 0.5;

    /// <summary>
    /// The distilled student trains on a pool of this many views of each training image (the original and shifted,
    /// flipped copies) that the teachers score once: consistent soft labels at one teacher pass per view. The
    /// label-trained student draws fresh shifts and flips every batch instead. 1: the images as they are.
    /// </summary>
    public int Views { get; init; } = 5;

    public int Seed { get; init; } = 1;

    /// <summary>Use only the first N training images (all when null).</summary>
    public int? TrainLimit { get; init; }

    /// <summary>Use only the first N test images (all when null).</summary>
    public int? TestLimit { get; init; }

    /// <summary>The teachers' epochs: the given number, or the budget of <see cref="TeacherImages"/> over the labelled images.</summary>
    public int TeacherEpochsFor(int labeled) => TeacherEpochs ?? (int)Math.Ceiling((double)TeacherImages / Math.Max(1, labeled));

    /// <summary>A run small enough for a test: 2,000 training images (500 labelled) and 1,000 test images, about a minute.</summary>
    public static DemoSettings Quick(DemoSettings basis) => basis with
    {
        TrainLimit = 2000,
        TestLimit = 1000,
        Labels = basis.Labels is null ? null : Math.Min(basis.Labels.Value, 500),
        TeacherEpochs = 2,
        StudentEpochs = 1,
    };

    /// <summary>Every setting that shapes the figures (all but the output folder), as JSON.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string Configuration => System.Text.Json.JsonSerializer.Serialize(this with { OutputDirectory = "" });

    /// <summary>One line saying what the run is: the setting it is for.</summary>
    public string Setting(int trainImages, int labeled) => labeled < trainImages
        ? $"Few labels, many images: {labeled:N0} labelled and {trainImages - labeled:N0} unlabelled training images, the setting where distillation pays."
        : $"Every one of the {trainImages:N0} training images labelled: distillation pays little here (the teachers know little beyond the student); see --labels.";
}
