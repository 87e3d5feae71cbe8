using Mtkd.Samples.Images;

namespace Mtkd.EndToEnd.Tests.Samples;

/// <summary>The image samples' threshold choice and evaluation (ML.NET's, at that threshold), on cases worked out by hand.</summary>
public sealed class ThresholdChoiceTests
{
    private static readonly float[] Scores = [0.9f, 0.8f, 0.7f, 0.6f, 0.4f, 0.2f];
    private static readonly bool[] Truth = [true, false, true, true, false, false];

    [Fact]
    public void Models_are_evaluated_by_MLNet_at_the_threshold_chosen_on_validation()
    {
        // F1 by threshold: 0.9 0.5, 0.8 0.4, 0.7 0.667, 0.6 0.857, 0.4 0.75, 0.2 0.667: best at 0.6, so the threshold is 0.5;
        // there TP 3, FP 1, TN 2, FN 0.
        var r = ModelEvaluation.Evaluate(new Microsoft.ML.MLContext(), "m", Scores, Truth, Scores, Truth, new ThresholdPolicy.MaxF1());
        Assert.Equal(0.5, r.Threshold, 6);
        Assert.Equal((3, 1, 2, 0), (r.TruePositives, r.FalsePositives, r.TrueNegatives, r.FalseNegatives));
        Assert.Equal(5 / 6.0, r.Test.Accuracy, 6);
        Assert.Equal(3 / 4.0, r.Test.PositivePrecision, 6);
        Assert.Equal(1.0, r.Test.PositiveRecall, 6);
        Assert.Equal(6 / 7.0, r.Test.F1Score, 6);
        Assert.Equal(1 / 3.0, r.FalsePositiveRate, 6);
        // Positive–negative pairs: (0.9 > 0.8, 0.4, 0.2), (0.7 < 0.8; > 0.4, 0.2), (0.6 < 0.8; > 0.4, 0.2): 7 of 9.
        Assert.Equal(7 / 9.0, r.Test.AreaUnderRocCurve, 6);

        // Recall ≥ 0.3 first: 0.9 has precision 1, so the threshold is 0.85 and only the top image is called positive;
        // ML.NET's evaluator, which decides by Score > 0, must count it so (TP 1, FP 0, TN 3, FN 2).
        var strict = ModelEvaluation.Evaluate(new Microsoft.ML.MLContext(), "m", Scores, Truth, Scores, Truth, new ThresholdPolicy.RecallFirst(0.3));
        Assert.Equal(0.85, strict.Threshold, 6);
        Assert.Equal((1, 0, 3, 2), (strict.TruePositives, strict.FalsePositives, strict.TrueNegatives, strict.FalseNegatives));
        Assert.Equal(4 / 6.0, strict.Test.Accuracy, 6);
        Assert.Equal(7 / 9.0, strict.Test.AreaUnderRocCurve, 6);
    }

    [Fact]
    public void Sweep_moves_tied_scores_together()
    {
        var sweep = ThresholdChoice.Sweep([0.7f, 0.7f, 0.3f], [true, false, true]);
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
        Assert.Equal(0.45, ThresholdChoice.Choose(scores, truth, new ThresholdPolicy.MaxF1()), 6);
        // Recall ≥ 0.6: 0.8 has the best precision, so halfway to 0.7.
        Assert.Equal(0.75, ThresholdChoice.Choose(scores, truth, new ThresholdPolicy.RecallFirst(0.6)), 6);
        // Recall ≥ 0.9: 0.6 or 0.3; 0.6 has the better precision.
        Assert.Equal(0.45, ThresholdChoice.Choose(scores, truth, new ThresholdPolicy.RecallFirst(0.9)), 6);
        // Separable scores: full recall costs no precision, so recall first takes it even when asked for less.
        Assert.Equal(0.5, ThresholdChoice.Choose([0.9f, 0.8f, 0.2f], [true, true, false], new ThresholdPolicy.RecallFirst(0.5)), 6);
    }

    [Fact]
    public void Mismatched_lengths_are_refused()
    {
        Assert.Throws<ArgumentException>(() => ThresholdChoice.Sweep([0.5f], [true, false]));
    }
}
