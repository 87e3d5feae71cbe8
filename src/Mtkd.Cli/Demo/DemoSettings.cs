using Mtkd.Training.Data;

namespace Mtkd.Cli.Demo;

/// <summary>What `mtkd demo` runs. The defaults finish in about four minutes on a 2-core machine.</summary>
public sealed record DemoSettings
{
    /// <summary>Fashion-MNIST folder. Default: the Debian package's.</summary>
    public string DataDirectory { get; init; } = FashionMnist.DefaultDirectory;

    /// <summary>Where teachers, the student (ONNX and ML.NET zip) and the report go. Default "out/demo".</summary>
    public string OutputDirectory { get; init; } = Path.Combine("out", "demo");

    public int TeacherCount { get; init; } = 3;

    /// <summary>Share of the training set each teacher sees (a seeded random subset per teacher).</summary>
    public double TeacherFraction { get; init; } = 0.7;

    public int TeacherEpochs { get; init; } = 5;

    /// <summary>How many times each student sees every training image's worth of views: passes over the pool × views, rounded up to whole passes.</summary>
    public int StudentEpochs { get; init; } = 10;
    public double Temperature { get; init; } = 4.0;
    public double Alpha { get; init; } = 0.5;

    /// <summary>
    /// Both students train on a pool of this many views of each training image (the original and shifted, flipped
    /// copies) that the teachers score once: consistent soft labels at one teacher pass per view, the recipe that
    /// did best in the Fashion-MNIST study's compression regime. 1: the images as they are.
    /// </summary>
    public int Views { get; init; } = 5;
    public int Seed { get; init; } = 1;

    /// <summary>Use only the first N training images (all when null).</summary>
    public int? TrainLimit { get; init; }

    /// <summary>Use only the first N test images (all when null).</summary>
    public int? TestLimit { get; init; }

    /// <summary>A run small enough for a test: 2,000 training and 1,000 test images, one epoch each.</summary>
    public static DemoSettings Quick(DemoSettings basis) => basis with
    {
        TrainLimit = 2000,
        TestLimit = 1000,
        TeacherEpochs = 1,
        StudentEpochs = 1,
    };
}
