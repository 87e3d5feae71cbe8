namespace Mtkd.Training.Fusion;

/// <summary>Weights for <see cref="FusionMethod.WeightedAverage"/>.</summary>
public static class TeacherWeights
{
    /// <summary>
    /// Each teacher's accuracy on labelled validation soft labels, normalised to sum to 1; a better teacher counts
    /// for more. Falls back to equal weights when every teacher scores 0.
    /// </summary>
    public static double[] FromAccuracy(ReadOnlySpan<float> logits, IReadOnlyList<int> labels, int teacherCount, int classCount)
    {
        var accuracy = new double[teacherCount];
        for (int t = 0; t < teacherCount; t++)
            accuracy[t] = SoftLabelAccuracy.Teacher(logits, labels, teacherCount, classCount, t);
        double sum = accuracy.Sum();
        return sum > 0 ? accuracy.Select(a => a / sum).ToArray() : Enumerable.Repeat(1.0 / teacherCount, teacherCount).ToArray();
    }
}
