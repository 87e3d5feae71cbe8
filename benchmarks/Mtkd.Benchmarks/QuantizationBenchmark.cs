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
    /// <summary>One model: its test accuracy, bytes, batch-1 latency on 1 and 2 threads, and where ONNX Runtime spends its time.</summary>
    public sealed record Variant(string Model, double AccuracyPercent, long Bytes, double Milliseconds1Thread, double Milliseconds2Threads, IReadOnlyList<KernelTime> Kernels);

    public sealed record KernelTime(string Op, int Nodes, double Percent, double MicrosecondsPerCall);

    public sealed record Report(string Name, string Model, int CalibrationImages, int TestImages, string Decision, long ExportedFloatBytes,
        IReadOnlyList<Variant> Variants, double AccuracyDropPoints, double BytesRatio, double BytesRatioToFolded, double LatencyRatio1Thread,
        double LatencyRatio2Threads, string CpuInt8Instructions, string Int8Path);

    public static Report Run(string name, string modelPath, ImageDataset calibrationSet, ImageDataset test, int calibrationImages, int latencyRuns, Action<string> log)
    {
        var floatModel = File.ReadAllBytes(modelPath);
        var clock = Stopwatch.StartNew();
        var int8 = OnnxQuantizer.Quantize(floatModel, calibrationSet, new QuantizationOptions { CalibrationImages = calibrationImages }, modelPath);
        log($"{name}: quantized in {clock.Elapsed.TotalSeconds:0.0} s on {Math.Min(calibrationImages, calibrationSet.Count)} training images");
        var models = new (string Name, byte[] Bytes)[]
        {
            ("float32 (batch norm folded)", OnnxQuantizer.FoldBatchNorm(floatModel)),
            ("int8 (min/max)", int8),
            ("int8 (99.99th percentile)", OnnxQuantizer.Quantize(floatModel, calibrationSet,
                new QuantizationOptions { CalibrationImages = calibrationImages, Method = CalibrationMethod.Percentile }, modelPath)),
            ("int8, first convolution float", OnnxQuantizer.Quantize(floatModel, calibrationSet,
                new QuantizationOptions { CalibrationImages = calibrationImages, FloatFirstConvolution = true }, modelPath)),
        };
        string int8Path = Path.ChangeExtension(modelPath, null) + ".int8.onnx";
        Mtkd.Training.AtomicFile.WriteAllBytes(int8Path, int8);

        bool binary = OutputWidth(floatModel) == 1;
        var accuracy = models.Select(m => AccuracyOf(m.Bytes, test, binary) * 100).ToArray();
        log($"{name}: accuracy {string.Join(", ", models.Select((m, i) => $"{m.Name} {accuracy[i]:0.00} %"))}");
        var latency = new[] { 1, 2 }.Select(threads =>
        {
            var medians = AlternatingMedians(models.Select(m => m.Bytes).ToArray(), test, threads, latencyRuns);
            log($"{name}: batch 1 on {threads} thread(s): {string.Join(", ", models.Select((m, i) => $"{m.Name} {medians[i]:0.0000} ms"))}");
            return medians;
        }).ToArray();
        var variants = models.Select((m, i) => new Variant(m.Name, accuracy[i], m.Bytes.Length, latency[0][i], latency[1][i], Profile(m.Bytes, test))).ToArray();
        return new Report(name, modelPath, Math.Min(calibrationImages, calibrationSet.Count), test.Count,
            binary ? "one logit: true where it is ≥ 0 (probability ≥ 0.5)" : "the class of the largest logit", floatModel.Length, variants,
            accuracy[0] - accuracy[1], (double)int8.Length / floatModel.Length, (double)int8.Length / variants[0].Bytes,
            latency[0][1] / latency[0][0], latency[1][1] / latency[1][0], CpuInt8Instructions(), int8Path);
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

    // Rounds of calls of each model in turn on the same images; the median call of each over all rounds.
    private static double[] AlternatingMedians(byte[][] models, ImageDataset images, int threads, int runs)
    {
        var sessions = models.Select(m =>
        {
            using var options = Options(threads);
            return new InferenceSession(m, options);
        }).ToArray();
        try
        {
            var inputs = Enumerable.Range(0, 16).Select(i => images.ReadImage(i % images.Count)).ToArray();
            var shape = InputShape(sessions[0], 1, images);
            var times = sessions.Select(_ => new List<double>()).ToArray();
            using var runOptions = new RunOptions();
            const int perRound = 20;
            for (int round = -1; round < Math.Max(1, runs / perRound); round++) // round −1 warms every model up
                for (int k = 0; k < sessions.Length; k++)
                    for (int i = 0; i < perRound; i++)
                    {
                        using var value = OrtValue.CreateTensorValueFromMemory(inputs[i % inputs.Length], shape);
                        long start = Stopwatch.GetTimestamp();
                        using var outputs = sessions[k].Run(runOptions, [sessions[k].InputMetadata.Keys.First()], [value], ["logits"]);
                        if (round >= 0) times[k].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    }
            return times.Select(t => t.Order().ElementAt(t.Count / 2)).ToArray();
        }
        finally
        {
            foreach (var s in sessions) s.Dispose();
        }
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
        var table = new Table().Title(Markup.Escape($"{r.Name}: {r.Model}, {r.TestImages:N0} test images (decision: {r.Decision}), int8 calibrated on " +
                $"{r.CalibrationImages} training images; batch-1 latency in ONNX Runtime, median of alternating calls"))
            .AddColumn("Model").AddColumn(new TableColumn("Test accuracy").RightAligned()).AddColumn(new TableColumn("Bytes").RightAligned())
            .AddColumn(new TableColumn("ms, 1 thread").RightAligned()).AddColumn(new TableColumn("ms, 2 threads").RightAligned());
        foreach (var v in r.Variants)
            table.AddRow(Markup.Escape(v.Model), $"{v.AccuracyPercent:0.00} %", v.Bytes.ToString("N0"), $"{v.Milliseconds1Thread:0.0000}", $"{v.Milliseconds2Threads:0.0000}");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(Markup.Escape($"int8 (min/max) against float32: accuracy {-r.AccuracyDropPoints:+0.00;-0.00;0.00} points (target: within 0.3); " +
            $"{r.BytesRatio:0.000}× the bytes of the exported float model ({r.ExportedFloatBytes:N0}), {r.BytesRatioToFolded:0.000}× the folded one (target ≤ 0.3×); " +
            $"batch-1 latency {r.LatencyRatio1Thread:0.00}× on 1 thread, {r.LatencyRatio2Threads:0.00}× on 2 (target ≤ 0.6×). CPU int8 instructions: {r.CpuInt8Instructions}."));
        foreach (var v in r.Variants.Where(v => !v.Model.Contains("percentile", StringComparison.Ordinal)))
            AnsiConsole.MarkupLine(Markup.Escape($"ONNX Runtime kernels, {v.Model} (profile, 1 thread, µs per image): " +
                string.Join(", ", v.Kernels.Select(k => $"{k.Op}×{k.Nodes} {k.MicrosecondsPerCall:0.0} ({k.Percent:0}%)")) + "."));
        AnsiConsole.MarkupLine(Markup.Escape($"Wrote {r.Int8Path}."));
    }
}
