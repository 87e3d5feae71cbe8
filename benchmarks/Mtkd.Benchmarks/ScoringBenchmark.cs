using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Transforms.Onnx;
using Mtkd.MLNet;
using Mtkd.MLNet.Data;
using Mtkd.Training.Data;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Engine;
using Spectre.Console;

namespace Mtkd.Benchmarks;

/// <summary>
/// Scores Fashion-MNIST test images through the teachers and prints images/s and GMAC/s: ScoreTeachers; the best
/// hand-written InferenceSession loop over the same models and batch size (the ceiling: ScoreTeachers' session
/// settings, each teacher in turn on whole batches, inputs and outputs pre-allocated once and bound as OrtValues so
/// a call allocates nothing); and one stock
/// ApplyOnnxModel per teacher chained in a pipeline (ML.NET's own way, one row per ONNX Runtime call), with stock
/// settings and tuned to one thread, its best setting here. Models are loaded before timing starts; each
/// method's outputs are checked against the bare loop's so the comparison is like for like.
/// </summary>
internal static class ScoringBenchmark
{
    public sealed record Method(string Name, double BestSeconds, double ImagesPerSecond, double MaxDifferenceFromBare);

    public sealed record Report(int Images, int Teachers, int BatchSize, int Repeats, string TeacherSource, string Machine, IReadOnlyList<Method> Methods,
        double ScoreTeachersVersusBare, double ScoreTeachersVersusApplyOnnxModel, double ScoreTeachersVersusTunedApplyOnnxModel,
        long MultiplyAccumulatesPerImage, double ScoreTeachersGmacPerSecond, double BareGmacPerSecond, double? PeakGmacPerSecond, string PeakBasis);

    public static Report Run(ScoringBenchmarkSettings settings)
    {
        var images = FashionMnist.Load(DataSplit.Test).Take(settings.Images);
        using var temporary = new TemporaryDirectory();
        var (teachers, source) = settings.Teachers.Count > 0
            ? (settings.Teachers, "given")
            : (RandomTeachers(images, temporary.Path), "three randomly initialised teacher-cnn networks (synthetic weights)");

        // The ceiling gets the session settings ScoreTeachers uses by default (all graph optimisations, ONNX Runtime's
        // thread count, no spinning in either pool).
        using var sessionOptions = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        sessionOptions.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        var sessions = teachers.Select(t => new InferenceSession(t, sessionOptions)).ToArray();
        var ml = new MLContext(seed: 1);
        var view = images.ToDataView(ml);
        double bare, scoreTeachers;
        float[] bareLogits, mtkdLogits;
        try
        {
            using var scorer = ml.Transforms.ScoreTeachers(teachers, batchSize: settings.BatchSize).Fit(view);
            var scored = scorer.Transform(view);
            // The two alternate round by round, so a slow spell of this shared machine hits both alike.
            (bare, scoreTeachers, bareLogits, mtkdLogits) = TimeAlternating(settings.Repeats,
                () => BareLoop(sessions, images, settings.BatchSize), () => ReadVectors(scored, images.Count, [TeacherColumns.Logits]));
        }
        finally
        {
            foreach (var session in sessions) session.Dispose();
        }
        var chained = TimeApplyOnnxModel(ml, view, images.Count, teachers, settings.Repeats, intraOpThreads: null, out var chainedLogits);
        var chainedOneThread = TimeApplyOnnxModel(ml, view, images.Count, teachers, settings.Repeats, intraOpThreads: 1, out var chainedOneThreadLogits);

        var methods = new[]
        {
            new Method("ScoreTeachers", scoreTeachers, images.Count / scoreTeachers, MaxDifference(bareLogits, mtkdLogits)),
            new Method("best hand-written InferenceSession loop (pre-allocated, bound)", bare, images.Count / bare, 0),
            new Method($"{teachers.Count} chained ApplyOnnxModel (stock settings)", chained, images.Count / chained, MaxDifference(bareLogits, chainedLogits)),
            new Method($"{teachers.Count} chained ApplyOnnxModel, IntraOpNumThreads = 1", chainedOneThread, images.Count / chainedOneThread,
                MaxDifference(bareLogits, chainedOneThreadLogits)),
        };
        long macs = teachers.Sum(t => OnnxModelInfo.Read(t).Cost.MultiplyAccumulates);
        var (peak, basis) = CpuPeak();
        return new Report(images.Count, teachers.Count, settings.BatchSize, settings.Repeats, source,
            $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}", methods,
            bare / scoreTeachers, chained / scoreTeachers, chainedOneThread / scoreTeachers,
            macs, images.Count * (double)macs / scoreTeachers / 1e9, images.Count * (double)macs / bare / 1e9, peak, basis);
    }

    // fp32 peak from /proc/cpuinfo: cores × clock × MACs per cycle (two FMA pipes: 16 lanes with AVX-512, 8 with AVX2).
    // Nominal clock, not boost; a rough bound that says how far from the hardware scoring runs.
    private static (double? Gmac, string Basis) CpuPeak()
    {
        try
        {
            var info = File.ReadAllText("/proc/cpuinfo");
            var mhz = System.Text.RegularExpressions.Regex.Match(info, @"cpu MHz\s*:\s*([0-9.]+)");
            if (!mhz.Success) return (null, "no clock in /proc/cpuinfo");
            double ghz = double.Parse(mhz.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) / 1000;
            bool avx512 = info.Contains(" avx512f"), avx2 = info.Contains(" avx2") && info.Contains(" fma");
            int lanes = avx512 ? 16 : avx2 ? 8 : 4;
            return (Environment.ProcessorCount * ghz * lanes * 2,
                $"{Environment.ProcessorCount} cores × {ghz:0.00} GHz × {lanes} fp32 lanes ({(avx512 ? "AVX-512" : avx2 ? "AVX2" : "SSE")}) × 2 FMA pipes");
        }
        catch (IOException)
        {
            return (null, "/proc/cpuinfo unreadable");
        }
    }

    public static void Print(Report report)
    {
        var table = new Table().Title($"Scoring {report.Images:N0} Fashion-MNIST test images through {report.Teachers} teachers (batch {report.BatchSize}, best of {report.Repeats})")
            .AddColumn("Method").AddColumn(new TableColumn("Seconds").RightAligned()).AddColumn(new TableColumn("Images/s").RightAligned())
            .AddColumn(new TableColumn("Max |Δ logit| vs bare").RightAligned());
        foreach (var m in report.Methods)
            table.AddRow(Markup.Escape(m.Name), $"{m.BestSeconds:0.000}", $"{m.ImagesPerSecond:N0}", $"{m.MaxDifferenceFromBare:G2}");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(Markup.Escape($"Teachers: {report.TeacherSource}. Machine: {report.Machine}."));
        AnsiConsole.MarkupLine($"ScoreTeachers vs the best hand-written loop: [bold]{report.ScoreTeachersVersusBare:0.00}×[/] (target ≥ 0.95×)");
        AnsiConsole.MarkupLine(Markup.Escape($"Compute: {report.MultiplyAccumulatesPerImage / 1e6:0.00} M MACs per image for all teachers; " +
            $"ScoreTeachers {report.ScoreTeachersGmacPerSecond:0.0} GMAC/s, " +
            $"hand-written loop {report.BareGmacPerSecond:0.0} GMAC/s" +
            (report.PeakGmacPerSecond is { } peak ? $", against an fp32 peak of about {peak:0} GMAC/s ({report.PeakBasis}): " +
                $"{100 * report.ScoreTeachersGmacPerSecond / peak:0.0} % of it." : $" ({report.PeakBasis}).")));
        AnsiConsole.MarkupLine($"ScoreTeachers vs chained ApplyOnnxModel: [bold]{report.ScoreTeachersVersusApplyOnnxModel:0.00}×[/] (target ≥ 2×, aim 3×); " +
            $"vs ApplyOnnxModel tuned to one thread: {report.ScoreTeachersVersusTunedApplyOnnxModel:0.00}×");
    }

    private static IReadOnlyList<string> RandomTeachers(ImageDataset shape, string directory) =>
        Enumerable.Range(0, 3).Select(i =>
        {
            using var network = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.TeacherCnn), shape, seed: i);
            var path = Path.Combine(directory, $"teacher-{i}.onnx");
            OnnxExporter.Export(network, path);
            return path;
        }).ToArray();

    private static double TimeBest(int repeats, Func<float[]> run, out float[] result)
    {
        result = run(); // warm-up: first-run allocations and ONNX Runtime's lazy initialisation
        double best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            result = run();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>
    /// The ceiling: the images already in one array; per batch one input OrtValue over the pixels in place and, per
    /// teacher, an output OrtValue over a buffer allocated once, so ONNX Runtime writes the logits where they are read.
    /// </summary>
    private static float[] BareLoop(InferenceSession[] sessions, ImageDataset images, int batchSize)
    {
        int classes = images.ClassCount, n = images.Count, size = images.ImageSize, teachers = sessions.Length;
        var pixels = images.ReadAllPixels(); // the ceiling reads pixels already in memory
        var logits = new float[n * teachers * classes];
        var buffers = Enumerable.Range(0, teachers).Select(_ => new float[batchSize * classes]).ToArray();
        using var runOptions = new RunOptions();
        string[] inputNames = ["input"], outputNames = ["logits"];
        for (int start = 0; start < n; start += batchSize)
        {
            int count = Math.Min(batchSize, n - start);
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
                pixels.AsMemory(start * size, count * size), [count, images.Channels, images.Height, images.Width]);
            for (int t = 0; t < teachers; t++)
            {
                using var output = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, buffers[t].AsMemory(0, count * classes), [count, classes]);
                sessions[t].Run(runOptions, inputNames, [input], outputNames, [output]);
                var batch = buffers[t].AsSpan(0, count * classes);
                for (int row = 0; row < count; row++)
                    batch.Slice(row * classes, classes).CopyTo(logits.AsSpan(((start + row) * teachers + t) * classes, classes));
            }
        }
        return logits;
    }

    // Best time of each of two runs, timed in turn: a, b, a, b, … after one warm-up of each.
    private static (double A, double B, float[] ResultA, float[] ResultB) TimeAlternating(int repeats, Func<float[]> a, Func<float[]> b)
    {
        var resultA = a();
        var resultB = b();
        double bestA = double.MaxValue, bestB = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            resultA = a();
            bestA = Math.Min(bestA, clock.Elapsed.TotalSeconds);
            clock.Restart();
            resultB = b();
            bestB = Math.Min(bestB, clock.Elapsed.TotalSeconds);
        }
        return (bestA, bestB, resultA, resultB);
    }

    private static double TimeApplyOnnxModel(MLContext ml, IDataView view, int rows, IReadOnlyList<string> teachers, int repeats, int? intraOpThreads, out float[] logits)
    {
        // One stock OnnxTransformer per teacher. Each writes "logits"; a copy keeps every teacher's column alive,
        // since ML.NET computes only the columns a cursor asks for.
        IEstimator<ITransformer> pipeline = ml.Transforms.CopyColumns("input", "Features");
        var columns = new List<string>();
        for (int t = 0; t < teachers.Count; t++)
        {
            pipeline = pipeline.Append(ml.Transforms.ApplyOnnxModel(new OnnxOptions
                {
                    ModelFile = teachers[t],
                    InputColumns = ["input"],
                    OutputColumns = ["logits"],
                    IntraOpNumThreads = intraOpThreads,
                }))
                .Append(ml.Transforms.CopyColumns($"logits{t}", "logits"));
            columns.Add($"logits{t}");
        }
        var model = pipeline.Fit(view);
        try
        {
            var scored = model.Transform(view);
            return TimeBest(repeats, () => ReadVectors(scored, rows, columns), out logits);
        }
        finally
        {
            (model as IDisposable)?.Dispose();
        }
    }

    /// <summary>Reads every row's vectors in the named columns, concatenated per row, through one cursor.</summary>
    private static float[] ReadVectors(IDataView data, int rows, IReadOnlyList<string> columnNames)
    {
        var columns = columnNames.Select(n => data.Schema[n]).ToArray();
        int width = columns.Sum(c => ((VectorDataViewType)c.Type).Size);
        var result = new float[checked(rows * width)];
        int offset = 0;
        using var cursor = data.GetRowCursor(columns);
        var getters = columns.Select(c => cursor.GetGetter<VBuffer<float>>(c)).ToArray();
        VBuffer<float> value = default;
        while (cursor.MoveNext())
            foreach (var getter in getters)
            {
                getter(ref value);
                value.CopyTo(result.AsSpan(offset, value.Length));
                offset += value.Length;
            }
        return result;
    }

    private static double MaxDifference(float[] a, float[] b) =>
        a.Length != b.Length ? double.PositiveInfinity : a.Zip(b, (x, y) => (double)Math.Abs(x - y)).DefaultIfEmpty(0).Max();

    private sealed class TemporaryDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("mtkd-bench-").FullName;
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
