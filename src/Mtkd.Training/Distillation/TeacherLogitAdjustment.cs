namespace Mtkd.Training.Distillation;

/// <summary>
/// Knowledge adjustment (Wen et al. 2019, "Preparing lessons: improve knowledge distillation with better
/// supervision", arXiv 1911.07471): where a teacher's top class is not the true one, its logits for the two are
/// swapped. The soft target then always ranks the true class first while keeping the rest of the teacher's
/// ranking, so a student is never taught a teacher's mistake on its own training images.
/// </summary>
internal static class TeacherLogitAdjustment
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
            if (label == Data.ImageDataset.Unlabeled) continue; // nothing to correct a teacher by
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

    /// <summary>
    /// Cross-fitted soft labels (Dao et al. 2021): a copy of <paramref name="logits"/> in which every teacher that
    /// trained on an image has its logits for that image replaced by T·log of the mean probability (at temperature
    /// T) of the teachers that did not, so that every mode, reading softmax(logits / T), learns each image only from
    /// teachers that never saw it. An image every teacher trained on keeps all its logits.
    /// </summary>
    /// <param name="logits">Per image, <paramref name="teacherCount"/> blocks of <paramref name="classCount"/> logits.</param>
    /// <param name="inBag">Per image, K flags: whether teacher k trained on it ([N, K] row-major).</param>
    /// <param name="teacherCount">K.</param>
    /// <param name="classCount">C.</param>
    /// <param name="temperature">T, the temperature the student's loss reads the logits at.</param>
    public static float[] OutOfBag(ReadOnlySpan<float> logits, IReadOnlyList<bool> inBag, int teacherCount, int classCount, double temperature)
    {
        ArgumentNullException.ThrowIfNull(inBag);
        if (inBag.Count % teacherCount != 0 || (long)inBag.Count * classCount != logits.Length)
            throw new ArgumentException($"The in-bag mask has {inBag.Count} flags; expected one per image and teacher ({logits.Length / classCount} = " +
                $"images × {teacherCount} teachers).", nameof(inBag));
        int n = inBag.Count / teacherCount;
        var result = logits.ToArray();
        var mean = new double[classCount];
        var p = new double[classCount];
        for (int i = 0; i < n; i++)
        {
            int outside = 0;
            Array.Clear(mean);
            for (int t = 0; t < teacherCount; t++)
            {
                if (inBag[i * teacherCount + t]) continue;
                outside++;
                var row = logits.Slice((i * teacherCount + t) * classCount, classCount);
                Softmax(row, temperature, p);
                for (int c = 0; c < classCount; c++) mean[c] += p[c];
            }
            if (outside == 0 || outside == teacherCount) continue;
            for (int t = 0; t < teacherCount; t++)
            {
                if (!inBag[i * teacherCount + t]) continue;
                var row = result.AsSpan((i * teacherCount + t) * classCount, classCount);
                for (int c = 0; c < classCount; c++) row[c] = (float)(temperature * Math.Log(Math.Max(mean[c] / outside, 1e-12)));
            }
        }
        return result;
    }

    private static void Softmax(ReadOnlySpan<float> logits, double temperature, double[] into)
    {
        double max = double.NegativeInfinity;
        foreach (var v in logits) max = Math.Max(max, v / temperature);
        double sum = 0;
        for (int c = 0; c < logits.Length; c++) sum += into[c] = Math.Exp(logits[c] / temperature - max);
        for (int c = 0; c < logits.Length; c++) into[c] /= sum;
    }
}
