using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mtkd.Samples;

/// <summary>
/// Times ONNX models on one CPU thread without spinning, so figures compare the work each model does rather than how
/// well it spreads over cores. Compiled into each sample that reports speed (they cannot share an assembly: the
/// Fashion-MNIST study draws with SkiaSharp 3, the image samples use ML.NET's SkiaSharp 2).
/// </summary>
public static class OnnxTiming
{
    /// <summary>
    /// Median seconds for one call of every model in turn (an ensemble scored one model after another) on one batch
    /// of <paramref name="batch"/> C×H×W images, over <paramref name="runs"/> timed calls after <paramref name="warmup"/>.
    /// </summary>
    public static double MedianSeconds(IReadOnlyList<string> models, int batch, int channels, int height, int width, int runs, int warmup)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        var sessions = models.Select(m => new InferenceSession(m, options)).ToArray();
        try
        {
            var pixels = Enumerable.Range(0, batch * channels * height * width).Select(i => (i * 37 % 256) / 255f).ToArray();
            var inputs = sessions.Select(s =>
            {
                var (name, meta) = s.InputMetadata.First();
                // A channels-last model (as Keras exports) gets its pixels the way it declares them.
                bool channelsLast = meta.Dimensions is [_, var d1, _, var d3] && d3 == channels && d1 != channels;
                int[] shape = channelsLast ? [batch, height, width, channels] : [batch, channels, height, width];
                return new[] { NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(pixels, shape)) };
            }).ToArray();
            var times = new double[runs];
            for (int r = -warmup; r < runs; r++)
            {
                long start = Stopwatch.GetTimestamp();
                for (int s = 0; s < sessions.Length; s++)
                    using (sessions[s].Run(inputs[s])) { }
                if (r >= 0) times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
            Array.Sort(times);
            return times[runs / 2];
        }
        finally
        {
            foreach (var s in sessions) s.Dispose();
        }
    }
}
