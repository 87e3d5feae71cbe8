using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mtkd.Samples.FashionMnist;

/// <summary>Measured ONNX Runtime cost of a model or of an ensemble run one model after another.</summary>
public sealed record LatencyFigures(double MillisecondsAtBatch1, double MicrosecondsPerImageAtBatch256);

/// <summary>
/// Times ONNX models on one CPU thread without spinning, so figures compare the work each model does rather
/// than how well it spreads over cores: the median of many batch-1 calls, and the median batch of 256 per image.
/// </summary>
public static class OnnxLatency
{
    public static LatencyFigures Measure(IReadOnlyList<string> models, int channels, int height, int width, int batch1Runs = 2000, int batch256Runs = 20)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        var sessions = models.Select(m => new InferenceSession(m, options)).ToArray();
        try
        {
            double single = Median(sessions, 1, channels, height, width, batch1Runs) * 1e3;
            double perImage = Median(sessions, 256, channels, height, width, batch256Runs) * 1e6 / 256;
            return new LatencyFigures(single, perImage);
        }
        finally
        {
            foreach (var s in sessions) s.Dispose();
        }
    }

    // Median seconds for one call of every session on one batch.
    private static double Median(InferenceSession[] sessions, int batch, int channels, int height, int width, int runs)
    {
        var input = new DenseTensor<float>(Enumerable.Range(0, batch * channels * height * width).Select(i => (float)(i * 37 % 256)).ToArray(),
            [batch, channels, height, width]);
        var inputs = sessions.Select(s => new[] { NamedOnnxValue.CreateFromTensor(s.InputMetadata.Keys.First(), input) }).ToArray();
        var times = new double[runs];
        for (int r = -Math.Max(10, runs / 10); r < runs; r++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int s = 0; s < sessions.Length; s++)
                using (sessions[s].Run(inputs[s])) { }
            if (r >= 0) times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        Array.Sort(times);
        return times[runs / 2];
    }
}
