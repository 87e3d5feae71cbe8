namespace Mtkd.Training.Teachers;

/// <summary>
/// The unified rule of Zaras, Passalis and Tefas (2021), in one place: the probability of class c is the mean, over
/// the specialists that know c, of each one's softmax probability for c (a specialist's "other" output is not used).
/// The unified teacher's logits are the logarithms of those means, so that a softmax over the classes gives the mean
/// probabilities renormalised over the classes (at temperature T, their 1/T-th powers renormalised). The paper takes a
/// softmax of the mean probabilities themselves; as values between 0 and 1 those would give a nearly uniform
/// distribution (two classes at most a factor e apart), so Mtkd takes it of their logarithms.
/// </summary>
internal static class SpecialistEnsemble
{
    /// <summary>
    /// Refuses a set of specialists that leaves a class uncovered (no specialist gives it a probability), naming the
    /// class and the specialists, or whose specialists are for different numbers of classes.
    /// </summary>
    public static void CheckCoverage(IReadOnlyList<SpecialistClasses> groups, IReadOnlyList<string> names, IReadOnlyList<string>? classNames = null)
    {
        int classCount = groups[0].ClassCount;
        for (int s = 1; s < groups.Count; s++)
            if (groups[s].ClassCount != classCount)
                throw new InvalidDataException($"Specialist '{names[s]}' is for {groups[s].ClassCount} classes; '{names[0]}' is for {classCount}. Specialists must share one task.");
        var uncovered = Enumerable.Range(0, classCount).Where(c => !groups.Any(g => g.Classes.Contains(c))).ToArray();
        if (uncovered.Length > 0)
            throw new InvalidDataException($"No specialist covers {(uncovered.Length == 1 ? "class" : "classes")} " +
                $"{string.Join(", ", uncovered.Select(c => classNames is not null && c < classNames.Count ? $"{c} ({classNames[c]})" : $"{c}"))} of {classCount}; " +
                $"the specialists ({string.Join(", ", groups.Select((g, i) => $"'{names[i]}': {g}"))}) must cover every class: add a specialist for " +
                (uncovered.Length == 1 ? "it." : "them."));
    }

    /// <summary>
    /// Unifies the specialists' outputs for <paramref name="count"/> images: <paramref name="logits"/>[s] holds specialist
    /// s's logits, <see cref="SpecialistClasses.OutputCount"/> per image; image i's C unified logits go to
    /// <paramref name="destination"/> at <c>offset + i·stride</c>.
    /// </summary>
    public static void Unify(IReadOnlyList<SpecialistClasses> groups, IReadOnlyList<float[]> logits, int count, float[] destination, int offset, int stride)
    {
        int classCount = groups[0].ClassCount;
        var sum = new double[classCount];
        var covering = new int[classCount];
        foreach (var g in groups)
            foreach (int c in g.Classes) covering[c]++;
        for (int i = 0; i < count; i++)
        {
            Array.Clear(sum);
            for (int s = 0; s < groups.Count; s++)
            {
                var g = groups[s];
                var row = logits[s].AsSpan(i * g.OutputCount, g.OutputCount);
                double max = double.NegativeInfinity;
                foreach (float v in row) max = Math.Max(max, v);
                double total = 0;
                foreach (float v in row) total += Math.Exp(v - max);
                for (int j = 0; j < g.Classes.Count; j++)
                    sum[g.Classes[j]] += Math.Exp(row[j] - max) / total;
            }
            var target = destination.AsSpan(offset + i * stride, classCount);
            for (int c = 0; c < classCount; c++)
                target[c] = (float)Math.Log(Math.Max(sum[c] / covering[c], 1e-30));
        }
    }
}
