using Mtkd.Samples.Images;

namespace Mtkd.EndToEnd.Tests.Samples;

/// <summary>The image samples' evaluation, on cases worked out by hand.</summary>
public sealed class BinaryMetricsTests
{
    private static readonly float[] Scores = [0.9f, 0.8f, 0.7f, 0.6f, 0.4f, 0.2f];
    private static readonly bool[] Truth = [true, false, true, true, false, false];

    [Fact]
    public void Counts_and_rates_at_a_threshold()
    {
        var d = BinaryMetrics.At(Scores, Truth, 0.65);
        Assert.Equal((2, 1, 2, 1), (d.TruePositives, d.FalsePositives, d.TrueNegatives, d.FalseNegatives));
        Assert.Equal(4 / 6.0, d.Accuracy, 12);
        Assert.Equal(2 / 3.0, d.Precision, 12);
        Assert.Equal(2 / 3.0, d.Recall, 12);
        Assert.Equal(2 / 3.0, d.F1, 12);
        Assert.Equal(1 / 3.0, d.FalsePositiveRate, 12);
        // A score equal to the threshold counts as positive.
        Assert.Equal(3, BinaryMetrics.At(Scores, Truth, 0.6).TruePositives);
    }

    [Fact]
    public void Roc_auc_is_the_share_of_correctly_ordered_pairs_with_ties_counting_half()
    {
        // Positive–negative pairs: (0.9 > 0.8, 0.4, 0.2), (0.7 < 0.8; > 0.4, 0.2), (0.6 < 0.8; > 0.4, 0.2): 7 of 9.
        Assert.Equal(7 / 9.0, BinaryMetrics.RocAuc(Scores, Truth), 12);
        Assert.Equal(0.5, BinaryMetrics.RocAuc([0.5f, 0.5f], [true, false]), 12);
        Assert.Equal(1.0, BinaryMetrics.RocAuc([0.9f, 0.1f], [true, false]), 12);
        Assert.Throws<ArgumentException>(() => BinaryMetrics.RocAuc([0.9f, 0.1f], [true, true]));
    }

    [Fact]
    public void Average_precision_weights_precision_by_the_recall_each_threshold_adds()
    {
        // Positives are found at ranks 1, 3 and 4: (1/1 + 2/3 + 3/4) / 3.
        Assert.Equal((1 + 2 / 3.0 + 3 / 4.0) / 3, BinaryMetrics.AveragePrecision(Scores, Truth), 12);
    }

    [Fact]
    public void Sweep_moves_tied_scores_together()
    {
        var sweep = BinaryMetrics.Sweep([0.7f, 0.7f, 0.3f], [true, false, true]);
        Assert.Equal(3, sweep.Count); // above everything, 0.7, 0.3
        Assert.Equal((1, 1), (sweep[1].TruePositives, sweep[1].FalsePositives));
    }

    [Fact]
    public void Max_f1_and_recall_first_thresholds_sit_halfway_to_the_next_lower_score()
    {
        float[] scores = [0.9f, 0.8f, 0.7f, 0.6f, 0.3f];
        bool[] truth = [true, true, false, true, false];
        // By threshold, (recall, precision): 0.9 (1/3, 1), 0.8 (2/3, 1), 0.7 (2/3, 2/3), 0.6 (1, 3/4), 0.3 (1, 3/5).
        // F1: 0.5, 0.8, 0.667, 0.857, 0.75: best at 0.6, so halfway to 0.3.
        Assert.Equal(0.45, BinaryMetrics.ChooseThreshold(scores, truth, new ThresholdPolicy.MaxF1()), 6);
        // Recall ≥ 0.6: 0.8 has the best precision, so halfway to 0.7.
        Assert.Equal(0.75, BinaryMetrics.ChooseThreshold(scores, truth, new ThresholdPolicy.RecallFirst(0.6)), 6);
        // Recall ≥ 0.9: 0.6 or 0.3; 0.6 has the better precision.
        Assert.Equal(0.45, BinaryMetrics.ChooseThreshold(scores, truth, new ThresholdPolicy.RecallFirst(0.9)), 6);
        // Separable scores: full recall costs no precision, so recall first takes it even when asked for less.
        Assert.Equal(0.5, BinaryMetrics.ChooseThreshold([0.9f, 0.8f, 0.2f], [true, true, false], new ThresholdPolicy.RecallFirst(0.5)), 6);
    }

    [Fact]
    public void Mismatched_lengths_are_refused()
    {
        Assert.Throws<ArgumentException>(() => BinaryMetrics.At([0.5f], [true, false], 0.5));
    }
}
