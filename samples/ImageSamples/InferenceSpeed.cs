using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mtkd.Samples.Images;

/// <summary>Milliseconds per image of a model, or of an ensemble run one model after another, at batch 1 and batch 16.</summary>
public sealed record SpeedFigures(double MillisecondsAtBatch1, double MillisecondsPerImageAtBatch16);

/// <summary>
/// Times ONNX models on one CPU thread without spinning, so the figures compare the work each model does rather than
/// how well it spreads over cores: the median of repeated calls after a warm-up.
/// </summary>
public static class InferenceSpeed
{
    public static SpeedFigures Measure(IReadOnlyList<string> models, int channels, int height, int width, int runs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        var sessions = models.Select(m => new InferenceSession(m, options)).ToArray();
        try
        {
            return new SpeedFigures(Median(sessions, 1, channels, height, width, runs) * 1e3,
                Median(sessions, 16, channels, height, width, Math.Max(3, runs / 8)) * 1e3 / 16);
        }
        finally
        {
            foreach (var s in sessions) s.Dispose();
        }
    }

    private static double Median(InferenceSession[] sessions, int batch, int channels, int height, int width, int runs)
    {
        var input = new DenseTensor<float>(Enumerable.Range(0, batch * channels * height * width).Select(i => (i * 37 % 256) / 255f).ToArray(),
            [batch, channels, height, width]);
        var inputs = sessions.Select(s => new[] { NamedOnnxValue.CreateFromTensor(s.InputMetadata.Keys.First(), input) }).ToArray();
        var times = new double[runs];
        for (int r = -3; r < runs; r++)
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
