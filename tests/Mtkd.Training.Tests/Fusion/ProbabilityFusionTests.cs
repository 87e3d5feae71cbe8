using Mtkd.Training.Fusion;

namespace Mtkd.Training.Tests.Fusion;

/// <summary>The probability-combining methods on two teachers whose probabilities are chosen so the methods disagree.</summary>
public class ProbabilityFusionTests
{
    // Teacher 0: (0.95, 0.04, 0.01), very sure of class 0. Teacher 1: (0.001, 0.5, 0.499).
    private static readonly double[] P0 = [0.95, 0.04, 0.01], P1 = [0.001, 0.5, 0.499];
    private static readonly float[] Logits = [.. P0.Select(p => (float)Math.Log(p)), .. P1.Select(p => (float)Math.Log(p))];

    [Fact]
    public void Mean_probability_follows_the_confident_teacher()
    {
        // (0.4755, 0.27, 0.2545)
        var score = Fuse(FusionMethod.MeanProbability, out int predicted);
        Assert.Equal(0, predicted);
        AssertClose([0.4755, 0.27, 0.2545], score);
    }

    [Theory]
    [InlineData(FusionMethod.Product)]
    [InlineData(FusionMethod.MeanLogit)]
    public void Geometric_mean_punishes_a_near_zero_probability(FusionMethod method)
    {
        // √(0.95·0.001) = 0.0308, √(0.04·0.5) = 0.1414, √(0.01·0.499) = 0.0706, normalised.
        double[] geometric = [Math.Sqrt(0.95 * 0.001), Math.Sqrt(0.04 * 0.5), Math.Sqrt(0.01 * 0.499)];
        var score = Fuse(method, out int predicted);
        Assert.Equal(1, predicted);
        AssertClose(geometric.Select(g => g / geometric.Sum()).ToArray(), score);
    }

    [Fact]
    public void Max_confidence_takes_the_surest_teacher()
    {
        var score = Fuse(FusionMethod.MaxConfidence, out int predicted);
        Assert.Equal(0, predicted);
        AssertClose(P0, score);
    }

    [Theory]
    [InlineData(0.25, 0.75, 1)] // (0.23825, 0.385, 0.37675)
    [InlineData(0.75, 0.25, 0)] // (0.71275, 0.155, 0.13225)
    public void Weighted_average_follows_the_weights(double w0, double w1, int expected)
    {
        var score = Fuse(FusionMethod.WeightedAverage, out int predicted, [w0 * 4, w1 * 4]); // unnormalised weights are fine
        Assert.Equal(expected, predicted);
        AssertClose(P0.Zip(P1, (a, b) => w0 * a + w1 * b).ToArray(), score);
    }

    [Fact]
    public void Weights_come_from_validation_accuracy()
    {
        // Three rows labelled 0, 1, 2. Teacher 0 always says class 0 (1 of 3 right); teacher 1 is always right.
        float[] logits = [1, 0, 0, 1, 0, 0, /**/ 1, 0, 0, 0, 1, 0, /**/ 1, 0, 0, 0, 0, 1];
        var weights = TeacherWeights.FromAccuracy(logits, [0, 1, 2], 2, 3);
        Assert.Equal(0.25, weights[0], 12);
        Assert.Equal(0.75, weights[1], 12);
    }

    [Fact]
    public void Weighted_average_without_weights_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => new EnsembleFusion(FusionMethod.WeightedAverage, 2, 3));
        Assert.Contains("one weight per teacher", ex.Message);
        Assert.Throws<ArgumentException>(() => new EnsembleFusion(FusionMethod.WeightedAverage, 2, 3, [0, 0]));
    }

    [Fact]
    public void A_row_of_the_wrong_width_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => new EnsembleFusion(FusionMethod.MeanProbability, 2, 3).Fuse(new float[5], new float[3]));
        Assert.Contains("2 teachers × 3 classes", ex.Message);
    }

    private static float[] Fuse(FusionMethod method, out int predicted, double[]? weights = null)
    {
        var score = new float[3];
        predicted = new EnsembleFusion(method, 2, 3, weights).Fuse(Logits, score);
        return score;
    }

    private static void AssertClose(double[] expected, float[] actual)
    {
        for (int c = 0; c < expected.Length; c++)
            Assert.True(Math.Abs(expected[c] - actual[c]) < 1e-5, $"class {c}: expected {expected[c]:G6}, got {actual[c]:G6}");
    }
}
