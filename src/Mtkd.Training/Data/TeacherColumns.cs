namespace Mtkd.Training.Data;

/// <summary>
/// The names of the teacher signals an <see cref="ImageDataset"/> carries as columns, the same names the ML.NET
/// columns have by default.
/// </summary>
public static class TeacherColumns
{
    /// <summary>Per image, K blocks of C logits, teacher by teacher (the soft-label layout).</summary>
    public const string Logits = "TeacherLogits";

    /// <summary>Per image, K flags (1 where teacher k trained on the image): for out-of-bag teaching.</summary>
    public const string InBag = "TeacherInBag";

    /// <summary>Per image, the teachers' intermediate features concatenated teacher by teacher (supernet2, hint).</summary>
    public const string Features = "TeacherFeatures";
}
