namespace Mtkd.Samples.Images;

/// <summary>
/// One point of a threshold sweep: what calling "positive" every image scored at least <see cref="Threshold"/> gives.
/// The samples' metrics come from ML.NET's <c>BinaryClassification.Evaluate</c>; these points only choose the threshold
/// on validation and draw the ROC and precision-recall curves, which ML.NET does not return.
/// </summary>
public sealed record SweepPoint(double Threshold, int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives)
{
    /// <summary>Of the images called positive, the share that are; 1 when none is called positive (no false alarm).</summary>
    public double Precision => TruePositives + FalsePositives == 0 ? 1 : Ratio(TruePositives, TruePositives + FalsePositives);
    public double Recall => Ratio(TruePositives, TruePositives + FalseNegatives);
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
    public double FalsePositiveRate => Ratio(FalsePositives, FalsePositives + TrueNegatives);

    private static double Ratio(int a, int b) => b == 0 ? 0 : (double)a / b;
}

/// <summary>How a sample turns validation scores into a decision threshold.</summary>
public abstract record ThresholdPolicy
{
    /// <summary>The threshold with the best F1 (ties: the one nearest 0.5).</summary>
    public sealed record MaxF1 : ThresholdPolicy
    {
        public override string ToString() => "best F1 on validation";
    }

    /// <summary>
    /// Recall first: among thresholds whose recall is at least <see cref="TargetRecall"/>, the one with the best precision
    /// (fewest false alarms), and of those the one with the most recall. A missed event costs more than a false alarm.
    /// </summary>
    public sealed record RecallFirst(double TargetRecall) : ThresholdPolicy
    {
        public override string ToString() => $"best precision with validation recall ≥ {TargetRecall:0.###}";
    }
}

/// <summary>The threshold sweep of positive-class probabilities against the truth, and the threshold a policy picks from it.</summary>
public static class ThresholdChoice
{
    /// <summary>
    /// The decision at every distinct score used as a threshold, from the highest (fewest positives) down, preceded by
    /// the threshold above every score. Ties move together, so the curves have no steps that depend on row order.
    /// </summary>
    public static IReadOnlyList<SweepPoint> Sweep(IReadOnlyList<float> probabilities, IReadOnlyList<bool> positive)
    {
        Check(probabilities, positive);
        int positives = positive.Count(p => p), negatives = positive.Count - positives;
        var order = Enumerable.Range(0, probabilities.Count).OrderByDescending(i => probabilities[i]).ToArray();
        var sweep = new List<SweepPoint> { new(double.PositiveInfinity, 0, 0, negatives, positives) };
        int tp = 0, fp = 0;
        for (int k = 0; k < order.Length;)
        {
            float score = probabilities[order[k]];
            for (; k < order.Length && probabilities[order[k]] == score; k++)
                if (positive[order[k]]) tp++; else fp++;
            sweep.Add(new SweepPoint(score, tp, fp, negatives - fp, positives - tp));
        }
        return sweep;
    }

    /// <summary>
    /// The threshold the policy picks from validation scores; it is then applied unchanged to the test images. The policy
    /// picks a score; the threshold is set halfway between it and the next lower score, since every value in that gap
    /// makes the same validation decisions and the middle leaves the widest margin for new images.
    /// </summary>
    public static double Choose(IReadOnlyList<float> probabilities, IReadOnlyList<bool> positive, ThresholdPolicy policy)
    {
        var candidates = Sweep(probabilities, positive).Skip(1).ToArray();
        int chosen = policy switch
        {
            ThresholdPolicy.MaxF1 => Best(candidates, d => d.F1, d => -Math.Abs(d.Threshold - 0.5)),
            // Recall first: only thresholds that keep the target recall; of those the fewest false alarms, then the most recall.
            ThresholdPolicy.RecallFirst r => Best(candidates, d => d.Recall >= r.TargetRecall - 1e-12 ? d.Precision : double.NegativeInfinity, d => d.Recall),
            _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "Unknown threshold policy."),
        };
        double next = chosen + 1 < candidates.Length ? candidates[chosen + 1].Threshold : 0;
        return (candidates[chosen].Threshold + next) / 2;
    }

    private static int Best(SweepPoint[] candidates, Func<SweepPoint, double> first, Func<SweepPoint, double> second)
    {
        int best = 0;
        for (int i = 1; i < candidates.Length; i++)
        {
            double a = first(candidates[i]), b = first(candidates[best]);
            if (a > b || (a == b && second(candidates[i]) > second(candidates[best])))
                best = i;
        }
        return best;
    }

    private static void Check(IReadOnlyList<float> probabilities, IReadOnlyList<bool> positive)
    {
        if (probabilities.Count != positive.Count)
            throw new ArgumentException($"{probabilities.Count} probabilities for {positive.Count} truths.");
        if (probabilities.Count == 0)
            throw new ArgumentException("No scores to evaluate.");
    }
}
