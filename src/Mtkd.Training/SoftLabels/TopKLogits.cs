namespace Mtkd.Training.SoftLabels;

/// <summary>
/// Keeps a teacher's k largest logits and replaces the rest by one floor value: the log-mean-exp of the dropped
/// logits. Restored logits then give every kept class exactly its original probability and share the remaining
/// probability evenly among the dropped classes.
/// </summary>
internal static class TopKLogits
{
    /// <summary>Writes the k largest logits (largest first) with their classes, and returns the floor (−∞ when nothing is dropped).</summary>
    public static float Compress(ReadOnlySpan<float> logits, Span<int> classes, Span<float> values)
    {
        int k = classes.Length;
        var order = new int[logits.Length];
        for (int c = 0; c < order.Length; c++) order[c] = c;
        var keys = logits.ToArray();
        // Descending by logit, lower class first on ties: sort on negated values, stable by index.
        Array.Sort(order, (a, b) => keys[a] != keys[b] ? keys[b].CompareTo(keys[a]) : a.CompareTo(b));
        for (int j = 0; j < k; j++)
        {
            classes[j] = order[j];
            values[j] = logits[order[j]];
        }
        int dropped = logits.Length - k;
        if (dropped == 0)
            return float.NegativeInfinity;
        double max = double.NegativeInfinity;
        for (int j = k; j < order.Length; j++) max = Math.Max(max, logits[order[j]]);
        double sum = 0;
        for (int j = k; j < order.Length; j++) sum += Math.Exp(logits[order[j]] - max);
        return (float)(max + Math.Log(sum / dropped));
    }

    /// <summary>Restores a full row of logits: the kept ones at their classes, the floor elsewhere.</summary>
    public static void Restore(ReadOnlySpan<int> classes, ReadOnlySpan<float> values, float floor, Span<float> logits, string source)
    {
        logits.Fill(floor);
        for (int j = 0; j < classes.Length; j++)
        {
            if ((uint)classes[j] >= (uint)logits.Length)
                throw new InvalidDataException($"{source}: top-k class {classes[j]} is outside 0..{logits.Length - 1}.");
            logits[classes[j]] = values[j];
        }
    }
}
