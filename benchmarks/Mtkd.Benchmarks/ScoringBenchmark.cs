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
using Mtkd.Training.Training;
using Spectre.Console;

namespace Mtkd.Benchmarks;

/// <summary>
/// Scores Fashion-MNIST test images through the teachers and prints images/s: ScoreTeachers; a bare batched
/// InferenceSession loop over the same models, batch size and session settings (the ceiling); and one stock
/// ApplyOnnxModel per teacher chained in a pipeline (ML.NET's own way, one row per ONNX Runtime call), with stock
/// settings and tuned to one thread, its best setting here. Models are loaded before timing starts; each
/// method's outputs are checked against the bare loop's so the comparison is like for like.
/// </summary>
internal static class ScoringBenchmark
{
    public sealed record Method(string Name, double BestSeconds, double ImagesPerSecond, double MaxDifferenceFromBare);

    public sealed record Report(int Images, int Teachers, int BatchSize, int Repeats, string TeacherSource, string Machine, IReadOnlyList<Method> Methods,
        double ScoreTeachersVersusBare, double ScoreTeachersVersusApplyOnnxModel, double ScoreTeachersVersusTunedApplyOnnxModel);

    public static Report Run(ScoringBenchmarkSettings settings)
    {
        var images = FashionMnist.Load(DataSplit.Test).Take(settings.Images);
        using var temporary = new TemporaryDirectory();
        var (teachers, source) = settings.Teachers.Count > 0
            ? (settings.Teachers, "given")
            : (RandomTeachers(images, temporary.Path), "three randomly initialised teacher-cnn networks (synthetic weights)");

        // The ceiling gets the session settings ScoreTeachers uses by default (ONNX Runtime's thread count, no spinning).
        using var sessionOptions = new SessionOptions();
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        var sessions = teachers.Select(t => new InferenceSession(t, sessionOptions)).ToArray();
        double bare;
        float[] bareLogits;
        try
        {
            bare = TimeBest(settings.Repeats, () => BareLoop(sessions, images, settings.BatchSize), out bareLogits);
        }
        finally
        {
            foreach (var session in sessions) session.Dispose();
        }
        var ml = new MLContext(seed: 1);
        var view = images.ToDataView(ml);
        var scoreTeachers = TimeScoreTeachers(ml, view, teachers, settings with { Images = images.Count }, out var mtkdLogits);
        var chained = TimeApplyOnnxModel(ml, view, images.Count, teachers, settings.Repeats, intraOpThreads: null, out var chainedLogits);
        var chainedOneThread = TimeApplyOnnxModel(ml, view, images.Count, teachers, settings.Repeats, intraOpThreads: 1, out var chainedOneThreadLogits);

        var methods = new[]
        {
            new Method("ScoreTeachers", scoreTeachers, images.Count / scoreTeachers, MaxDifference(bareLogits, mtkdLogits)),
            new Method("bare InferenceSession loop", bare, images.Count / bare, 0),
            new Method($"{teachers.Count} chained ApplyOnnxModel (stock settings)", chained, images.Count / chained, MaxDifference(bareLogits, chainedLogits)),
            new Method($"{teachers.Count} chained ApplyOnnxModel, IntraOpNumThreads = 1", chainedOneThread, images.Count / chainedOneThread,
                MaxDifference(bareLogits, chainedOneThreadLogits)),
        };
        return new Report(images.Count, teachers.Count, settings.BatchSize, settings.Repeats, source,
            $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}", methods,
            bare / scoreTeachers, chained / scoreTeachers, chainedOneThread / scoreTeachers);
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
        AnsiConsole.MarkupLine($"ScoreTeachers vs bare loop: [bold]{report.ScoreTeachersVersusBare:0.00}×[/] (target ≥ 0.95×)");
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

    /// <summary>The ceiling: the images already in one array, each teacher run on whole batches, nothing else.</summary>
    private static float[] BareLoop(InferenceSession[] sessions, ImageDataset images, int batchSize)
    {
        int classes = images.ClassCount, n = images.Count, size = images.ImageSize, teachers = sessions.Length;
        var logits = new float[n * teachers * classes];
        using var runOptions = new RunOptions();
        for (int start = 0; start < n; start += batchSize)
        {
            int count = Math.Min(batchSize, n - start);
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
                images.Pixels.AsMemory(start * size, count * size), [count, images.Channels, images.Height, images.Width]);
            for (int t = 0; t < sessions.Length; t++)
            {
                using var outputs = sessions[t].Run(runOptions, ["input"], [input], ["logits"]);
                var batch = outputs[0].GetTensorDataAsSpan<float>();
                for (int row = 0; row < count; row++)
                    batch.Slice(row * classes, classes).CopyTo(logits.AsSpan(((start + row) * teachers + t) * classes, classes));
            }
        }
        return logits;
    }

    private static double TimeScoreTeachers(MLContext ml, IDataView view, IReadOnlyList<string> teachers, ScoringBenchmarkSettings settings, out float[] logits)
    {
        using var scorer = ml.Transforms.ScoreTeachers(teachers, batchSize: settings.BatchSize).Fit(view);
        var scored = scorer.Transform(view);
        return TimeBest(settings.Repeats, () => ReadVectors(scored, settings.Images, ["TeacherLogits"]), out logits);
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
