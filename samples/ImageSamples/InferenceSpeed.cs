namespace Mtkd.Samples.Images;

/// <summary>Milliseconds per image of a model, or of an ensemble run one model after another, at batch 1 and batch 16.</summary>
public sealed record SpeedFigures(double MillisecondsAtBatch1, double MillisecondsPerImageAtBatch16);

/// <summary>The image samples' speed figures: medians on one CPU thread (see <see cref="OnnxTiming"/>).</summary>
public static class InferenceSpeed
{
    public static SpeedFigures Measure(IReadOnlyList<string> models, int channels, int height, int width, int runs) =>
        new(OnnxTiming.MedianSeconds(models, 1, channels, height, width, runs, warmup: 3) * 1e3,
            OnnxTiming.MedianSeconds(models, 16, channels, height, width, Math.Max(3, runs / 8), warmup: 3) * 1e3 / 16);
}
