using Mtkd.Training.Distillation;
using Mtkd.Training.Training;

namespace Mtkd.Samples.FashionMnist;

/// <summary>
/// How big a study is. Every profile has one centre configuration (the headline) and sweeps K, the bagging
/// fraction, the mode and α around it; <see cref="FullGrid"/> runs the whole cross product instead.
/// </summary>
public sealed record StudyProfile(
    string Name,
    int? TrainImages,
    int? TestImages,
    int[] Seeds,
    string TeacherArchitecture,
    int? TeacherWidth,
    int TeacherEpochs,
    string StudentArchitecture,
    int? StudentWidth,
    int Views,
    int PassesOverViews,
    int[] TeacherCounts,
    double[] Fractions,
    DistillationMode[] Modes,
    double[] Alphas,
    int CentreTeachers,
    double CentreFraction,
    double CentreAlpha,
    DistillationMode SweepMode,
    double Temperature,
    bool FullGrid)
{
    /// <summary>Whether students distil from the teachers' logits as they are (false) and/or knowledge-adjusted (true).</summary>
    public bool[] Adjustments { get; init; } = [false];

    /// <summary>Whether the K and fraction sweeps distil from adjusted logits.</summary>
    public bool SweepAdjusted { get; init; }

    /// <summary>Augmentation for teachers and the student's views alike.</summary>
    public AugmentationOptions Augmentation => new() { ShiftPixels = 2, HorizontalFlip = true };

    /// <summary>What a student's training amounts to: one pass over each of <see cref="Views"/> views, <see cref="PassesOverViews"/> times.</summary>
    public int StudentEpochEquivalents => Views * PassesOverViews;

    public static readonly DistillationMode[] StudyModes =
        [DistillationMode.OutputAverage, DistillationMode.LossAverage, DistillationMode.MimicAll, DistillationMode.Supernet, DistillationMode.Confidence];

    /// <summary>Small enough for a test: 2,000 training and 1,000 test images, a few epochs.</summary>
    public static StudyProfile Quick { get; } = new(
        "quick", TrainImages: 2_000, TestImages: 1_000, Seeds: [1, 2, 3],
        TeacherArchitecture: "cnn-small", TeacherWidth: 32, TeacherEpochs: 3,
        StudentArchitecture: "cnn-small", StudentWidth: null, Views: 2, PassesOverViews: 2,
        TeacherCounts: [2, 3], Fractions: [0.8, 1.0], Modes: StudyModes, Alphas: [0, 0.5],
        CentreTeachers: 3, CentreFraction: 0.8, CentreAlpha: 0.5, SweepMode: DistillationMode.LossAverage,
        Temperature: 4, FullGrid: false);

    /// <summary>The profile the README reports: under two hours on two CPU cores.</summary>
    public static StudyProfile Standard { get; } = new(
        "standard", TrainImages: 5_000, TestImages: null, Seeds: [1, 2, 3],
        TeacherArchitecture: "cnn-small", TeacherWidth: 32, TeacherEpochs: 20,
        StudentArchitecture: "cnn-small", StudentWidth: null, Views: 5, PassesOverViews: 8,
        TeacherCounts: [2, 3, 5], Fractions: [0.6, 0.8, 1.0], Modes: StudyModes, Alphas: [0, 0.5],
        CentreTeachers: 5, CentreFraction: 0.8, CentreAlpha: 0.5, SweepMode: DistillationMode.LossAverage,
        Temperature: 4, FullGrid: false);

    /// <summary>The whole grid on all 60,000 training images: for a GPU or a long night.</summary>
    public static StudyProfile Full { get; } = Standard with
    {
        Name = "full", TrainImages = null, Views = 8, PassesOverViews = 5, FullGrid = true,
    };

    public static StudyProfile Parse(string name) => name switch
    {
        "quick" => Quick,
        "standard" => Standard,
        "full" => Full,
        _ => throw new ArgumentException($"Unknown profile '{name}'; expected quick, standard or full."),
    };
}
