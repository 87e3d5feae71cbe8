using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Mtkd.Training.Data;
using Mtkd.Training.Onnx;
using Spectre.Console;

namespace Mtkd.Benchmarks;

/// <summary>
/// A float student against its int8 model (<see cref="OnnxQuantizer"/>, calibrated on training images): test accuracy of
/// each (min/max and percentile calibration), file bytes against the student as exported and against its batch-norm-folded
/// float graph, and batch-1 latency in ONNX Runtime on one and on two threads, float and int8 alternating round by round
/// so both see the same machine. Then where the time goes: ONNX Runtime's profile of each model, per kernel, and the
/// CPU's int8 instructions.
/// </summary>
internal static class QuantizationBenchmark
{
    public sealed record Accuracy(string Model, double Percent);

    public sealed record Latency(int Threads, double FloatMilliseconds, double Int8Milliseconds, double Ratio);

    public sealed record KernelTime(string Op, int Nodes, double Percent, double MicrosecondsPerCall);

    public sealed record Report(string Name, string Model, int CalibrationImages, int TestImages, string Decision,
        IReadOnlyList<Accuracy> Accuracies, double AccuracyDropPoints, long FloatBytes, long FoldedFloatBytes, long Int8Bytes,
        double BytesRatio, double BytesRatioToFolded, IReadOnlyList<Latency> Latencies, IReadOnlyList<KernelTime> FloatKernels,
        IReadOnlyList<KernelTime> Int8Kernels, string CpuInt8Instructions, string Int8Path);

    public static Report Run(string name, string modelPath, ImageDataset calibrationSet, ImageDataset test, int calibrationImages, int latencyRuns, Action<string> log)
    {
        var floatModel = File.ReadAllBytes(modelPath);
        var folded = OnnxQuantizer.FoldBatchNorm(floatModel);
        var options = new QuantizationOptions { CalibrationImages = calibrationImages };
        var clock = Stopwatch.StartNew();
        var int8 = OnnxQuantizer.Quantize(floatModel, calibrationSet, options, modelPath);
        log($"{name}: quantized in {clock.Elapsed.TotalSeconds:0.0} s on {Math.Min(calibrationImages, calibrationSet.Count)} training images");
        var percentile = OnnxQuantizer.Quantize(floatModel, calibrationSet, new QuantizationOptions { CalibrationImages = calibrationImages, Method = CalibrationMethod.Percentile }, modelPath);
        string int8Path = Path.ChangeExtension(modelPath, null) + ".int8.onnx";
        Mtkd.Training.AtomicFile.WriteAllBytes(int8Path, int8);

        bool binary = OutputWidth(floatModel) == 1;
        double floatAccuracy = AccuracyOf(floatModel, test, binary), int8Accuracy = AccuracyOf(int8, test, binary);
        var accuracies = new[]
        {
            new Accuracy("float32", floatAccuracy * 100),
            new Accuracy("int8 (min/max)", int8Accuracy * 100),
            new Accuracy("int8 (99.99th percentile)", AccuracyOf(percentile, test, binary) * 100),
        };
        log($"{name}: accuracy float {floatAccuracy:P2}, int8 {int8Accuracy:P2}");

        var latencies = new[] { 1, 2 }.Select(threads =>
        {
            var (f, q) = AlternatingMedians(folded, int8, test, threads, latencyRuns);
            log($"{name}: batch 1 on {threads} thread(s): float {f:0.0000} ms, int8 {q:0.0000} ms");
            return new Latency(threads, f, q, q / f);
        }).ToArray();

        return new Report(name, modelPath, Math.Min(calibrationImages, calibrationSet.Count), test.Count,
            binary ? "one logit: true where it is ≥ 0 (probability ≥ 0.5)" : "the class of the largest logit",
            accuracies, (floatAccuracy - int8Accuracy) * 100, floatModel.Length, folded.Length, int8.Length,
            (double)int8.Length / floatModel.Length, (double)int8.Length / folded.Length, latencies,
            Profile(folded, test), Profile(int8, test), CpuInt8Instructions(), int8Path);
    }

    private static int OutputWidth(byte[] model)
    {
        using var session = new InferenceSession(model);
        return session.OutputMetadata["logits"].Dimensions[^1];
    }

    private static long[] InputShape(InferenceSession session, int batch, ImageDataset images) =>
        session.InputMetadata.First().Value.Dimensions.Length == 2 ? [batch, images.ImageSize] : [batch, images.Channels, images.Height, images.Width];

    private static double AccuracyOf(byte[] model, ImageDataset test, bool binary)
    {
        using var session = new InferenceSession(model);
        string input = session.InputMetadata.Keys.First();
        int correct = 0;
        const int batch = 64;
        var pixels = new float[batch * test.ImageSize];
        for (int start = 0; start < test.Count; start += batch)
        {
            int count = Math.Min(batch, test.Count - start);
            test.ReadImages(start, count, pixels.AsSpan(0, count * test.ImageSize));
            using var value = OrtValue.CreateTensorValueFromMemory(pixels.AsMemory(0, count * test.ImageSize).ToArray(), InputShape(session, count, test));
            using var outputs = session.Run(new RunOptions(), [input], [value], ["logits"]);
            var logits = outputs[0].GetTensorDataAsSpan<float>();
            int width = logits.Length / count;
            for (int i = 0; i < count; i++)
            {
                var row = logits.Slice(i * width, width);
                int predicted = binary ? (row[0] >= 0 ? 1 : 0) : ArgMax(row);
                if (predicted == test.Labels[start + i]) correct++;
            }
        }
        return (double)correct / test.Count;
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int c = 1; c < row.Length; c++) if (row[c] > row[best]) best = c;
        return best;
    }

    private static SessionOptions Options(int threads) => new()
    {
        IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    };

    // Rounds of float then int8 calls on the same images; the median call of each over all rounds.
    private static (double Float, double Int8) AlternatingMedians(byte[] floatModel, byte[] int8Model, ImageDataset images, int threads, int runs)
    {
        using var floatOptions = Options(threads);
        using var int8Options = Options(threads);
        using var floatSession = new InferenceSession(floatModel, floatOptions);
        using var int8Session = new InferenceSession(int8Model, int8Options);
        var inputs = Enumerable.Range(0, 16).Select(i => images.ReadImage(i % images.Count)).ToArray();
        var shape = InputShape(floatSession, 1, images);
        var times = (Float: new List<double>(), Int8: new List<double>());
        using var runOptions = new RunOptions();
        double Call(InferenceSession session, float[] pixels)
        {
            using var value = OrtValue.CreateTensorValueFromMemory(pixels, shape);
            long start = Stopwatch.GetTimestamp();
            using var outputs = session.Run(runOptions, [session.InputMetadata.Keys.First()], [value], ["logits"]);
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        const int perRound = 20;
        for (int round = -1; round < Math.Max(1, runs / perRound); round++) // round −1 warms both up
            foreach (var (session, list) in new[] { (floatSession, times.Float), (int8Session, times.Int8) })
                for (int i = 0; i < perRound; i++)
                {
                    double ms = Call(session, inputs[i % inputs.Length]);
                    if (round >= 0) list.Add(ms);
                }
        static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
        return (Median(times.Float), Median(times.Int8));
    }

    private const int Calls = 200;

    // ONNX Runtime's own profile over 200 batch-1 calls on one thread: time per kernel (op type), as a share of the total.
    private static IReadOnlyList<KernelTime> Profile(byte[] model, ImageDataset images)
    {
        string prefix = Path.Combine(Path.GetTempPath(), $"mtkd-profile-{Guid.NewGuid():N}");
        using var options = Options(1);
        options.EnableProfiling = true;
        options.ProfileOutputPathPrefix = prefix;
        string file;
        using (var session = new InferenceSession(model, options))
        {
            var shape = InputShape(session, 1, images);
            using var runOptions = new RunOptions();
            for (int i = 0; i < Calls; i++)
            {
                using var value = OrtValue.CreateTensorValueFromMemory(images.ReadImage(i % images.Count), shape);
                using var outputs = session.Run(runOptions, [session.InputMetadata.Keys.First()], [value], ["logits"]);
            }
            file = session.EndProfiling();
        }
        try
        {
            using var json = JsonDocument.Parse(File.ReadAllText(file));
            var nodes = json.RootElement.EnumerateArray()
                .Where(e => e.GetProperty("cat").GetString() == "Node" && e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal))
                .Select(e => (Op: e.GetProperty("args").GetProperty("op_name").GetString()!, Node: e.GetProperty("name").GetString()!, Micros: e.GetProperty("dur").GetDouble()))
                .ToArray();
            double total = nodes.Sum(n => n.Micros);
            return nodes.GroupBy(n => n.Op).Select(g => new KernelTime(g.Key, g.Select(n => n.Node).Distinct().Count(), 100 * g.Sum(n => n.Micros) / total,
                    g.Sum(n => n.Micros) / Calls))
                .OrderByDescending(k => k.Percent).ToArray();
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static string CpuInt8Instructions()
    {
        if (!File.Exists("/proc/cpuinfo")) return "unknown (no /proc/cpuinfo)";
        var flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))?.Split(' ') ?? [];
        var int8 = new[] { "avx512_vnni", "avx_vnni", "amx_int8", "avx512bw", "avx2" }.Where(flags.Contains).ToArray();
        return int8.Length == 0 ? "none of AVX2, AVX-512 BW, VNNI, AMX" : string.Join(", ", int8);
    }

    public static void Print(Report r)
    {
        var table = new Table().Title(Markup.Escape($"{r.Name}: {r.Model}, {r.TestImages:N0} test images (decision: {r.Decision}), int8 calibrated on {r.CalibrationImages} training images"))
            .AddColumn("Model").AddColumn(new TableColumn("Test accuracy").RightAligned());
        foreach (var a in r.Accuracies) table.AddRow(Markup.Escape(a.Model), $"{a.Percent:0.00} %");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(Markup.Escape($"Accuracy int8 (min/max) vs float: {-r.AccuracyDropPoints:+0.00;-0.00} points (target: within 0.3)."));
        AnsiConsole.MarkupLine(Markup.Escape($"Bytes: float32 as exported {r.FloatBytes:N0}, batch norm folded {r.FoldedFloatBytes:N0}, int8 {r.Int8Bytes:N0}: " +
            $"{r.BytesRatio:0.000}× the exported float, {r.BytesRatioToFolded:0.000}× the folded one (target ≤ 0.3×)."));
        var latency = new Table().Title("Batch-1 latency in ONNX Runtime (median; float = the folded graph)").AddColumn("Threads")
            .AddColumn(new TableColumn("float32 ms").RightAligned()).AddColumn(new TableColumn("int8 ms").RightAligned()).AddColumn(new TableColumn("int8 / float").RightAligned());
        foreach (var l in r.Latencies) latency.AddRow(l.Threads.ToString(), $"{l.FloatMilliseconds:0.0000}", $"{l.Int8Milliseconds:0.0000}", $"{l.Ratio:0.00}×");
        AnsiConsole.Write(latency);
        AnsiConsole.MarkupLine(Markup.Escape($"Target ≤ 0.6× at batch 1. CPU int8 instructions: {r.CpuInt8Instructions}."));
        AnsiConsole.MarkupLine(Markup.Escape("Kernels, share of the time (ONNX Runtime profile, 1 thread): float " +
            string.Join(", ", r.FloatKernels.Select(k => $"{k.Op}×{k.Nodes} {k.Percent:0}% ({k.MicrosecondsPerCall:0.0} µs)")) + "; int8 " +
            string.Join(", ", r.Int8Kernels.Select(k => $"{k.Op}×{k.Nodes} {k.Percent:0}% ({k.MicrosecondsPerCall:0.0} µs)")) + "."));
        AnsiConsole.MarkupLine(Markup.Escape($"Wrote {r.Int8Path}."));
    }
}
