namespace Mtkd.Training.Fusion;

/// <summary>
/// Accuracies read off a soft-label matrix: per image, <c>teacherCount</c> blocks of <c>classCount</c> logits
/// (teacher-major, the layout of the ScoreTeachers column).
/// </summary>
public static class SoftLabelAccuracy
{
    /// <summary>Accuracy of one teacher's argmax.</summary>
    public static double Teacher(ReadOnlySpan<float> logits, IReadOnlyList<int> labels, int teacherCount, int classCount, int teacher)
    {
        int width = Check(logits, labels, teacherCount, classCount);
        int correct = 0;
        for (int i = 0; i < labels.Count; i++)
            if (ArgMax(logits.Slice(i * width + teacher * classCount, classCount)) == labels[i]) correct++;
        return (double)correct / labels.Count;
    }

    /// <summary>Accuracy of the ensemble that averages the teachers' softmax probabilities.</summary>
    public static double MeanProbability(ReadOnlySpan<float> logits, IReadOnlyList<int> labels, int teacherCount, int classCount)
    {
        int width = Check(logits, labels, teacherCount, classCount);
        var mean = new double[classCount];
        int correct = 0;
        for (int i = 0; i < labels.Count; i++)
        {
            Array.Clear(mean);
            for (int t = 0; t < teacherCount; t++)
            {
                var row = logits.Slice(i * width + t * classCount, classCount);
                float max = float.NegativeInfinity;
                foreach (var v in row) max = Math.Max(max, v);
                double sum = 0;
                foreach (var v in row) sum += Math.Exp(v - max);
                for (int c = 0; c < classCount; c++) mean[c] += Math.Exp(row[c] - max) / sum;
            }
            int best = 0;
            for (int c = 1; c < classCount; c++) if (mean[c] > mean[best]) best = c;
            if (best == labels[i]) correct++;
        }
        return (double)correct / labels.Count;
    }

    private static int Check(ReadOnlySpan<float> logits, IReadOnlyList<int> labels, int teacherCount, int classCount)
    {
        int width = teacherCount * classCount;
        if (labels.Count == 0 || logits.Length != labels.Count * width)
            throw new ArgumentException($"{logits.Length} logits do not make {labels.Count} rows of {teacherCount} teachers × {classCount} classes.");
        return width;
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int c = 1; c < row.Length; c++) if (row[c] > row[best]) best = c;
        return best;
    }
}
