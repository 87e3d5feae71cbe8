namespace Mtkd.Samples.FashionMnist;

/// <summary>Measured ONNX Runtime cost of a model or of an ensemble run one model after another.</summary>
public sealed record LatencyFigures(double MillisecondsAtBatch1, double MicrosecondsPerImageAtBatch256);

/// <summary>The study's latency figures: the median batch-1 call, and the median batch of 256 per image (see <see cref="OnnxTiming"/>).</summary>
public static class OnnxLatency
{
    public static LatencyFigures Measure(IReadOnlyList<string> models, int channels, int height, int width, int batch1Runs = 2000, int batch256Runs = 20) =>
        new(OnnxTiming.MedianSeconds(models, 1, channels, height, width, batch1Runs, warmup: Math.Max(10, batch1Runs / 10)) * 1e3,
            OnnxTiming.MedianSeconds(models, 256, channels, height, width, batch256Runs, warmup: Math.Max(10, batch256Runs / 10)) * 1e6 / 256);
}
