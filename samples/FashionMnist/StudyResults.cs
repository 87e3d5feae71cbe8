namespace Mtkd.Samples.FashionMnist;

/// <summary>A trained teacher: what it scored and what it cost (epochs after early stopping, images seen).</summary>
public sealed record TeacherResult(int Index, int Seed, double TestAccuracy, long Parameters, long MultiplyAccumulates,
    double Seconds, int Epochs, long ImagesSeen);

/// <summary>
/// A trained student. <see cref="TeacherPasses"/> counts the teacher forward passes (per teacher and image) its
/// training needed: online teachers score every step, stored ones every training image once.
/// </summary>
public sealed record StudentResult(string Recipe, int Labels, int Seed, double TestAccuracy, long Parameters, long MultiplyAccumulates,
    double Seconds, int Epochs, long TrainingRows, long TeacherPasses);
