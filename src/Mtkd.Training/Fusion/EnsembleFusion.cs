namespace Mtkd.Training.Fusion;

/// <summary>
/// Combines one row of teacher logits (teacher-major, T×C) into class probabilities and a predicted class.
/// Keeps its buffers between rows, so one instance serves one thread.
/// </summary>
public sealed class EnsembleFusion
{
    private readonly int teachers;
    private readonly int classes;
    private readonly double[] weights;
    private readonly double[][] probabilities;
    private readonly double[] meanProbability;
    private readonly double[] fused;
    private readonly RankedVoting voting;

    /// <param name="method">The fusion method.</param>
    /// <param name="teacherCount">Teachers per row.</param>
    /// <param name="classCount">Classes per teacher.</param>
    /// <param name="weights">Per-teacher weights for <see cref="FusionMethod.WeightedAverage"/> (see <see cref="TeacherWeights"/>); ignored otherwise.</param>
    public EnsembleFusion(FusionMethod method, int teacherCount, int classCount, IReadOnlyList<double>? weights = null)
    {
        if (teacherCount < 1 || classCount < 1)
            throw new ArgumentOutOfRangeException(nameof(teacherCount), $"Need at least one teacher and one class (got {teacherCount} teachers, {classCount} classes).");
        if (!Enum.IsDefined(method))
            throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown fusion method.");
        Method = method;
        teachers = teacherCount;
        classes = classCount;
        if (method == FusionMethod.WeightedAverage)
        {
            if (weights is null || weights.Count != teacherCount)
                throw new ArgumentException($"WeightedAverage needs one weight per teacher ({teacherCount}); got {weights?.Count ?? 0}.", nameof(weights));
            if (weights.Any(w => !(w >= 0)) || weights.Sum() <= 0)
                throw new ArgumentException($"Teacher weights must be non-negative with a positive sum; got [{string.Join(", ", weights)}].", nameof(weights));
        }
        this.weights = weights?.ToArray() ?? Enumerable.Repeat(1.0, teacherCount).ToArray();
        probabilities = Enumerable.Range(0, teacherCount).Select(_ => new double[classCount]).ToArray();
        meanProbability = new double[classCount];
        fused = new double[classCount];
        voting = new RankedVoting(teacherCount, classCount);
    }

    public FusionMethod Method { get; }

    /// <summary>True for the ranked-vote methods, whose <c>score</c> is a normalised vote tally rather than a probability.</summary>
    public static bool IsRankedVote(FusionMethod method) =>
        method is not (FusionMethod.MeanProbability or FusionMethod.MeanLogit or FusionMethod.Product or FusionMethod.MaxConfidence or FusionMethod.WeightedAverage);

    /// <summary>
    /// Fuses one row. <paramref name="score"/> receives C values summing to 1 whose largest is the returned class:
    /// probabilities for the probability methods; for ranked votes the method's tally, normalised, with tied classes
    /// nudged apart (by under a quarter of the smallest gap between tallies) in tie-break order.
    /// </summary>
    public int Fuse(ReadOnlySpan<float> logits, Span<float> score)
    {
        if (logits.Length != teachers * classes)
            throw new ArgumentException($"A row has {logits.Length} logits; expected {teachers} teachers × {classes} classes = {teachers * classes}.", nameof(logits));
        if (score.Length != classes)
            throw new ArgumentException($"The score buffer holds {score.Length} values; expected {classes}.", nameof(score));

        Array.Clear(meanProbability);
        for (int t = 0; t < teachers; t++)
        {
            Softmax(logits.Slice(t * classes, classes), probabilities[t]);
            for (int c = 0; c < classes; c++) meanProbability[c] += probabilities[t][c] / teachers;
        }

        if (IsRankedVote(Method))
            return voting.Vote(Method, logits, meanProbability, score);

        switch (Method)
        {
            case FusionMethod.MeanProbability:
                meanProbability.CopyTo(fused, 0);
                break;
            case FusionMethod.MeanLogit:
                Array.Clear(fused);
                for (int t = 0; t < teachers; t++)
                    for (int c = 0; c < classes; c++) fused[c] += logits[t * classes + c] / (double)teachers;
                SoftmaxInPlace(fused);
                break;
            case FusionMethod.Product:
                Array.Clear(fused);
                for (int t = 0; t < teachers; t++)
                    for (int c = 0; c < classes; c++) fused[c] += Math.Log(Math.Max(probabilities[t][c], double.Epsilon)) / teachers;
                SoftmaxInPlace(fused);
                break;
            case FusionMethod.MaxConfidence:
                int best = 0;
                for (int t = 1; t < teachers; t++)
                    if (probabilities[t].Max() > probabilities[best].Max()) best = t;
                probabilities[best].CopyTo(fused, 0);
                break;
            case FusionMethod.WeightedAverage:
                Array.Clear(fused);
                double total = weights.Sum();
                for (int t = 0; t < teachers; t++)
                    for (int c = 0; c < classes; c++) fused[c] += weights[t] / total * probabilities[t][c];
                break;
        }
        // The prediction is read off the float scores callers see, so it always agrees with argmax(score) (lowest index on a tie).
        int predicted = 0;
        for (int c = 0; c < classes; c++)
        {
            score[c] = (float)fused[c];
            if (score[c] > score[predicted]) predicted = c;
        }
        return predicted;
    }

    private static void Softmax(ReadOnlySpan<float> logits, double[] destination)
    {
        for (int c = 0; c < logits.Length; c++) destination[c] = logits[c];
        SoftmaxInPlace(destination);
    }

    private static void SoftmaxInPlace(double[] values)
    {
        double max = values.Max();
        double sum = 0;
        for (int c = 0; c < values.Length; c++) sum += values[c] = Math.Exp(values[c] - max);
        for (int c = 0; c < values.Length; c++) values[c] /= sum;
    }
}
