namespace Mtkd.Training.Distillation;

/// <summary>
/// Knowledge adjustment (Wen et al. 2019, "Preparing lessons: improve knowledge distillation with better
/// supervision", arXiv 1911.07471): where a teacher's top class is not the true one, its logits for the two are
/// swapped. The soft target then always ranks the true class first while keeping the rest of the teacher's
/// ranking, so a student is never taught a teacher's mistake on its own training images.
/// </summary>
public static class TeacherLogitAdjustment
{
    /// <summary>An adjusted copy of <paramref name="logits"/> (per image, <paramref name="teacherCount"/> blocks of <paramref name="classCount"/> logits).</summary>
    public static float[] SwapWrongPredictions(ReadOnlySpan<float> logits, IReadOnlyList<int> labels, int teacherCount, int classCount)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (teacherCount < 1 || classCount < 2)
            throw new ArgumentOutOfRangeException(nameof(teacherCount), $"Need at least one teacher and two classes (got {teacherCount} teachers, {classCount} classes).");
        long expected = (long)labels.Count * teacherCount * classCount;
        if (logits.Length != expected)
            throw new ArgumentException($"Teacher logits have {logits.Length} values; expected {labels.Count} images × {teacherCount} teachers × {classCount} classes = {expected}.", nameof(logits));
        var adjusted = logits.ToArray();
        for (int i = 0; i < labels.Count; i++)
        {
            int label = labels[i];
            if (label < 0 || label >= classCount)
                throw new ArgumentOutOfRangeException(nameof(labels), $"Label {label} of image {i} is outside 0..{classCount - 1}.");
            for (int t = 0; t < teacherCount; t++)
            {
                var row = adjusted.AsSpan((i * teacherCount + t) * classCount, classCount);
                int top = 0;
                for (int c = 1; c < classCount; c++)
                    if (row[c] > row[top]) top = c;
                if (row[top] > row[label]) (row[top], row[label]) = (row[label], row[top]);
            }
        }
        return adjusted;
    }
}
