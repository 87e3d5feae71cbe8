using Microsoft.ML;
using Microsoft.ML.Data;

namespace Mtkd.Samples.Images;

/// <summary>
/// A model's threshold (chosen on validation) and its test figures from ML.NET's <c>BinaryClassification.Evaluate</c>:
/// accuracy, precision, recall, F1 and the confusion matrix at that threshold, ROC AUC and the area under the
/// precision-recall curve.
/// </summary>
public sealed record ModelResult(string Name, double Threshold, CalibratedBinaryClassificationMetrics Test, float[] TestProbabilities, bool[] TestTruth)
{
    // ML.NET's binary confusion matrix lists the positive class first: row = truth, column = prediction.
    public int TruePositives => (int)Test.ConfusionMatrix.Counts[0][0];
    public int FalseNegatives => (int)Test.ConfusionMatrix.Counts[0][1];
    public int FalsePositives => (int)Test.ConfusionMatrix.Counts[1][0];
    public int TrueNegatives => (int)Test.ConfusionMatrix.Counts[1][1];
    public double FalsePositiveRate => 1 - Test.NegativeRecall;
}

/// <summary>Evaluates a model's positive-class probabilities the same way for the student, its baseline and the ensemble.</summary>
public static class ModelEvaluation
{
    /// <summary>
    /// Chooses the threshold on validation with <paramref name="policy"/>, then evaluates the test probabilities at it
    /// with <c>mlContext.BinaryClassification.Evaluate</c>. That evaluator decides by Score &gt; 0 whatever the
    /// PredictedLabel column says, so Score is the probability's logit minus the threshold's: positive exactly where
    /// the probability is above the threshold, and ranked as the probability is (the AUC is unchanged).
    /// </summary>
    public static ModelResult Evaluate(MLContext ml, string name, float[] validationProbabilities, bool[] validationTruth, float[] testProbabilities,
        bool[] testTruth, ThresholdPolicy policy)
    {
        double threshold = ThresholdChoice.Choose(validationProbabilities, validationTruth, policy);
        static double Logit(double p) => Math.Log(Math.Clamp(p, 1e-7, 1 - 1e-7) / (1 - Math.Clamp(p, 1e-7, 1 - 1e-7)));
        var rows = testProbabilities.Select((p, i) => new Decision
        {
            Label = testTruth[i], Probability = p, Score = (float)(Logit(p) - Logit(threshold)), PredictedLabel = p >= threshold,
        });
        return new ModelResult(name, threshold, ml.BinaryClassification.Evaluate(ml.Data.LoadFromEnumerable(rows.ToArray())), testProbabilities, testTruth);
    }

    private sealed class Decision
    {
        public bool Label { get; set; }
        public float Score { get; set; }
        public float Probability { get; set; }
        public bool PredictedLabel { get; set; }
    }
}
