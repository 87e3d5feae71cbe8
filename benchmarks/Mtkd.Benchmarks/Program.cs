using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Mtkd.Samples.Shared;
using Mtkd.Training.Data;

namespace Mtkd.Benchmarks;

/// <summary>The benchmark programs, each printing its figures (and writing them as JSON with --json), with the mtkd command-line conventions.</summary>
public static class Program
{
    public static int Main(string[] args) => CommandLineRun.Invoke(Command(), args);

    private static RootCommand Command()
    {
        var json = new Option<string?>("--json") { Description = "Also write the figures as JSON to this file.", Recursive = true };
        var quick = new Option<bool>("--quick") { Description = "A smoke run for tests.", Recursive = true };
        var root = new RootCommand("Mtkd's benchmarks: each prints its figures.") { json, quick };
        root.Subcommands.Add(Scoring(json, quick));
        root.Subcommands.Add(Distillation(json, quick));
        root.Subcommands.Add(Memory(json, quick));
        root.Subcommands.Add(Quantization(json, quick));
        root.Subcommands.Add(CoTraining(json, quick));
        return root;
    }

    private static Command Scoring(Option<string?> json, Option<bool> quick)
    {
        var teachers = new Option<string[]>("--teachers") { Description = "Teacher models (default: three randomly initialised teacher-cnn networks; " +
            "throughput does not depend on the weights).", AllowMultipleArgumentsPerToken = true };
        var images = new Option<int>("--images") { Description = "Fashion-MNIST test images to score.", DefaultValueFactory = _ => 10000 };
        var batch = new Option<int>("--batch-size") { Description = "Rows per ONNX Runtime call.", DefaultValueFactory = _ => 256 };
        var repeats = new Option<int>("--repeats") { Description = "Timed passes per method; the best is reported.", DefaultValueFactory = _ => 3 };
        var command = new Command("scoring", "ScoreTeachers against the best hand-written ONNX Runtime loop (--quick: 512 images, one pass).") { teachers, images, batch, repeats };
        command.SetAction(parse =>
        {
            bool q = parse.GetValue(quick);
            foreach (var teacher in parse.GetValue(teachers) ?? [])
                if (!File.Exists(teacher)) throw new FileNotFoundException($"--teachers: '{teacher}' does not exist.", teacher);
            var settings = new ScoringBenchmarkSettings(parse.GetValue(teachers) ?? [], q ? 512 : Positive(parse, images), Positive(parse, batch),
                q ? 1 : Positive(parse, repeats), parse.GetValue(json));
            var report = ScoringBenchmark.Run(settings);
            ScoringBenchmark.Print(report);
            WriteJson(settings.JsonPath, report);
            return 0;
        });
        return command;
    }

    private static Command Distillation(Option<string?> json, Option<bool> quick)
    {
        var images = new Option<int>("--images") { Description = "Training images (default all 60,000; --quick 1,000).", DefaultValueFactory = _ => 60000 };
        var memoryEpochs = new Option<int>("--memory-epochs") { Description = "Epochs watching resident memory, at least 2 (default 10; --quick 3).", DefaultValueFactory = _ => 10 };
        var pytorchImages = new Option<int>("--pytorch-images") { Description = "Training images of the PyTorch comparison (--quick 512).", DefaultValueFactory = _ => 10000 };
        var noPyTorch = new Option<bool>("--no-pytorch") { Description = "Leave out the comparison with the PyTorch twin (which needs Debian's python3-torch)." };
        var command = new Command("distillation", "One output_avg epoch of cnn-small through NetworkTrainer.Distill against a bare TorchSharp loop, then epochs " +
            "watching resident memory, then Mtkd's label-trained, stored-soft-label and online-teaching epochs against their PyTorch twin.")
        {
            images, memoryEpochs, pytorchImages, noPyTorch,
        };
        command.SetAction(parse =>
        {
            bool q = parse.GetValue(quick);
            int count = q ? 1000 : Positive(parse, images), epochs = q ? 3 : Positive(parse, memoryEpochs);
            if (epochs < 2) throw new ArgumentException($"--memory-epochs {epochs}: expected 2 or more (the first epoch is the baseline).");
            int twinImages = q ? 512 : Positive(parse, pytorchImages);
            var report = DistillationBenchmark.Run(count, epochs, rounds: count <= 1000 ? 1 : 5);
            DistillationBenchmark.Print(report);
            var pytorch = parse.GetValue(noPyTorch) ? null
                : PyTorchComparison.Run(FashionMnist.Load(DataSplit.Train).Take(twinImages), rounds: q ? 1 : 3, Console.WriteLine);
            if (pytorch is not null) PyTorchComparison.Print(pytorch);
            WriteJson(parse.GetValue(json), report with { PyTorch = pytorch });
            return 0;
        });
        return command;
    }

    private static Command Memory(Option<string?> json, Option<bool> quick)
    {
        var folder = new Option<string>("--folder") { Description = "Where the caches are kept.", DefaultValueFactory = _ => Path.Combine("out", "memory-benchmark"), Recursive = true };
        var count = new Option<int>("--count") { Description = "SYNTHETIC corrosion photographs at 240x320, at least 4 (--quick 64).", DefaultValueFactory = _ => 20000 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs of the teacher trained on them.", DefaultValueFactory = _ => 1 };
        var photos = new Command("photos", "Photographs decoded into the cache and one teacher trained on them; prints peak resident memory.") { count, epochs };
        photos.SetAction(parse =>
        {
            int n = parse.GetValue(quick) ? 64 : Positive(parse, count);
            if (n < 4) throw new ArgumentException($"--count {n}: expected at least 4 photographs.");
            var result = MemoryBenchmark.Photos(n, Positive(parse, epochs), Path.Combine(parse.GetValue(folder)!, $"photos-{n}"), Console.WriteLine);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"photos: {result.Photos:N0} at {result.Width}x{result.Height} ({result.PixelsAsFloatGiB:F2} GiB as float), {result.Epochs} epoch(s): " +
                $"decode {(result.CacheReused ? "reused" : $"{result.DecodeImagesPerSecond:N0} images/s")}, training {result.TrainImagesPerSecond:N1} images/s, " +
                $"peak resident memory {result.PeakResidentGiB:F2} GiB"));
            WriteJson(parse.GetValue(json), result);
            return 0;
        });
        var images = new Option<int>("--images") { Description = "Training images (--quick 2048).", DefaultValueFactory = _ => 60000 };
        var rounds = new Option<int>("--rounds") { Description = "Alternating rounds (--quick 1).", DefaultValueFactory = _ => 3 };
        var fashion = new Command("fashion-mnist", "Training throughput from the IDX cache on disk against the in-memory arrays, alternating.") { images, rounds };
        fashion.SetAction(parse =>
        {
            bool q = parse.GetValue(quick);
            var report = MemoryBenchmark.FashionMnist(q ? 2048 : Positive(parse, images), q ? 1 : Positive(parse, rounds), Path.Combine(parse.GetValue(folder)!, "cache"), Console.WriteLine);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"fashion-mnist: {report.Images:N0} images, {report.Rounds} round(s): in memory {report.InMemoryImagesPerSecond.Average():N0} images/s, " +
                $"from the cache {report.CacheImagesPerSecond.Average():N0} images/s: cache/in-memory {report.Ratio:F3} (peak resident memory " +
                    $"{Samples.Images.ProcessMemory.PeakResidentGiB():F2} GiB)"));
            WriteJson(parse.GetValue(json), report);
            return 0;
        });
        return new Command("memory", "Memory benchmarks: photos, fashion-mnist.") { folder, photos, fashion };
    }

    private static Command CoTraining(Option<string?> json, Option<bool> quick)
    {
        var images = new Option<int>("--images") { Description = "Training images (--quick 512).", DefaultValueFactory = _ => 10000 };
        var rounds = new Option<int>("--rounds") { Description = "Timed epochs after a warm-up one; the fastest is reported (--quick 1).", DefaultValueFactory = _ => 3 };
        var command = new Command("cotraining", "Mutual learning and online ensemble compression against the sum of their members trained alone.") { images, rounds };
        command.SetAction(parse =>
        {
            bool q = parse.GetValue(quick);
            var report = CoTrainingBenchmark.Run(FashionMnist.Load(DataSplit.Train).Take(q ? 512 : Positive(parse, images)), q ? 1 : Positive(parse, rounds), Console.WriteLine);
            CoTrainingBenchmark.Print(report);
            WriteJson(parse.GetValue(json), report);
            return 0;
        });
        return command;
    }

    private static Command Quantization(Option<string?> json, Option<bool> quick)
    {
        var model = new Option<string?>("--model") { Description = "The float student (default: the demo's out/demo/student.onnx, or the sample run's OUT/student.onnx)." };
        var sampleOut = new Option<string?>("--sample-out") { Description = "A finished corrosion sample run's --out folder (a run on its synthetic images): its student on its images " +
            "(calibrated on its training split, tested on its test split) instead of the demo's on Fashion-MNIST." };
        var calibration = new Option<int>("--calibration-images") { Description = "Training images the int8 ranges are read from (--quick 64).", DefaultValueFactory = _ => 300 };
        var runs = new Option<int>("--runs") { Description = "Timed batch-1 calls per model and thread count (--quick 40).", DefaultValueFactory = _ => 1000 };
        var command = new Command("quantization", "A float student against its int8 model: accuracy, bytes, batch-1 latency in ONNX Runtime, kernel profile.")
        {
            model, sampleOut, calibration, runs,
        };
        command.SetAction(parse =>
        {
            bool q = parse.GetValue(quick);
            int calibrationImages = q ? 64 : Positive(parse, calibration), timed = q ? 40 : Positive(parse, runs);
            QuantizationBenchmark.Report report;
            if (parse.GetValue(sampleOut) is { } folder)
            {
                // Checked before anything is read: a folder without a finished run would otherwise get synthetic images drawn into it.
                string path = parse.GetValue(model) ?? Path.Combine(folder, "student.onnx");
                if (!File.Exists(path)) throw new FileNotFoundException($"--model: '{path}' does not exist; run the corrosion sample with --out {folder} first.", path);
                if (!Samples.Images.SyntheticFolder.IsDrawn(Path.Combine(folder, "synthetic")))
                    throw new FileNotFoundException($"--sample-out {folder} holds no synthetic images drawn by the corrosion sample ({Path.Combine(folder, "synthetic")}); " +
                        "give the --out of a run on its synthetic images.");
                // The sample's own splits, read as its run read them (its defaults, this --out).
                Samples.Images.SampleSettings? settings = null;
                Samples.Images.SampleSettings.Command(Samples.Corrosion.CorrosionSample.Definition, s => settings = s).Parse(["--out", folder]).Invoke();
                var (_, _, train, _, test) = Samples.Images.SampleRunner.LoadSplits(Samples.Corrosion.CorrosionSample.Definition, settings!, Console.WriteLine, asDrawn: true);
                report = QuantizationBenchmark.Run(parse.GetValue(model) is null ? "corrosion sample student" : $"corrosion sample, {Path.GetFileName(path)}", path, train, q ? test.Take(64) : test, calibrationImages, timed, Console.WriteLine);
            }
            else
            {
                string path = parse.GetValue(model) ?? Path.Combine("out", "demo", "student.onnx");
                if (!File.Exists(path)) throw new FileNotFoundException($"--model: '{path}' does not exist; run mtkd demo first (or give --model).", path);
                var test = FashionMnist.Load(DataSplit.Test);
                report = QuantizationBenchmark.Run(parse.GetValue(model) is null ? "demo student" : Path.GetFileName(path), path, FashionMnist.Load(DataSplit.Train), q ? test.Take(500) : test, calibrationImages, timed, Console.WriteLine);
            }
            QuantizationBenchmark.Print(report);
            WriteJson(parse.GetValue(json), report);
            return 0;
        });
        return command;
    }

    private static int Positive(ParseResult parse, Option<int> option) => CommandLineRun.Positive(parse.GetValue(option), option.Name);

    private static void WriteJson<T>(string? path, T report)
    {
        if (path is not null)
            Training.AtomicFile.WriteAllText(path, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
    }
}
