namespace Mtkd.Benchmarks;

public static class Program
{
    private const string Usage = """
        Usage: Mtkd.Benchmarks distillation [--images N] [--memory-epochs N] [--json FILE] [--quick]
          one output_avg epoch of cnn-small through NetworkTrainer.Distill against a bare TorchSharp loop
          (default all 60,000 training images, then 10 epochs watching resident memory; --quick: 1,000 images, 3 epochs)
        Usage: Mtkd.Benchmarks scoring [options]
          --teachers A.onnx B.onnx C.onnx   teacher models (default: three randomly initialised teacher-cnn networks;
                                            throughput does not depend on the weights)
          --images N                        Fashion-MNIST test images to score (default 10000)
          --batch-size N                    rows per ONNX Runtime call (default 256)
          --repeats N                       timed passes per method; the best is reported (default 3)
          --json FILE                       also write the figures as JSON
          --quick                           512 images, one pass: a smoke run for tests
        Usage: Mtkd.Benchmarks memory photos [--count N] [--epochs N] [--folder DIR] [--json FILE] [--quick]
          N SYNTHETIC corrosion photographs at 240x320 (default 20000) decoded into the cache, one teacher trained
          --epochs (default 1) on them; prints peak resident memory (--quick: 64 photos)
        Usage: Mtkd.Benchmarks memory fashion-mnist [--images N] [--rounds N] [--folder DIR] [--json FILE] [--quick]
          training throughput from the IDX cache on disk against the in-memory arrays, alternating
          (default 60000 images, 3 rounds; --quick: 2048 images, 1 round)
        """;

    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "distillation")
            return RunDistillation(args[1..]);
        if (args.Length > 1 && args[0] == "memory")
            return RunMemory(args[1], args[2..]);
        if (args.Length == 0 || args[0] != "scoring")
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        try
        {
            var settings = ScoringBenchmarkSettings.Parse(args[1..]);
            var report = ScoringBenchmark.Run(settings);
            ScoringBenchmark.Print(report);
            if (settings.JsonPath is { } json)
                Training.AtomicFile.WriteAllText(json, System.Text.Json.JsonSerializer.Serialize(report, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        catch (Exception ex) when (ex is ArgumentException or FileNotFoundException or InvalidDataException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            Console.Error.WriteLine(Usage);
            return 1;
        }
    }

    private static int RunDistillation(string[] args)
    {
        int images = 60000, memoryEpochs = 10;
        string? json = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--images" when i + 1 < args.Length && int.TryParse(args[i + 1], out var n) && n > 0: images = n; i++; break;
                case "--memory-epochs" when i + 1 < args.Length && int.TryParse(args[i + 1], out var e) && e > 1: memoryEpochs = e; i++; break;
                case "--json" when i + 1 < args.Length: json = args[++i]; break;
                case "--quick": images = 1000; memoryEpochs = 3; break;
                default:
                    Console.Error.WriteLine($"error: unknown or incomplete option '{args[i]}'.");
                    Console.Error.WriteLine(Usage);
                    return 1;
            }
        }
        var report = DistillationBenchmark.Run(images, memoryEpochs, rounds: images <= 1000 ? 1 : 5);
        DistillationBenchmark.Print(report);
        if (json is not null)
            Training.AtomicFile.WriteAllText(json, System.Text.Json.JsonSerializer.Serialize(report, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        return 0;
    }

    private static int RunMemory(string part, string[] args)
    {
        int count = 20000, epochs = 1, images = 60000, rounds = 3;
        string folder = Path.Combine("out", "memory-benchmark");
        string? json = null;
        for (int i = 0; i < args.Length; i++)
        {
            bool hasValue = i + 1 < args.Length;
            switch (args[i])
            {
                case "--count" when hasValue && int.TryParse(args[i + 1], out var n) && n >= 4: count = n; i++; break;
                case "--epochs" when hasValue && int.TryParse(args[i + 1], out var e) && e >= 1: epochs = e; i++; break;
                case "--images" when hasValue && int.TryParse(args[i + 1], out var m) && m >= 1: images = m; i++; break;
                case "--rounds" when hasValue && int.TryParse(args[i + 1], out var r) && r >= 1: rounds = r; i++; break;
                case "--folder" when hasValue: folder = args[++i]; break;
                case "--json" when hasValue: json = args[++i]; break;
                case "--quick": (count, images, rounds) = (64, 2048, 1); break;
                default:
                    Console.Error.WriteLine($"error: unknown or incomplete option '{args[i]}'.");
                    Console.Error.WriteLine(Usage);
                    return 1;
            }
        }
        void Log(string message) => Console.WriteLine(message);
        switch (part)
        {
            case "photos":
                var photos = MemoryBenchmark.Photos(count, epochs, Path.Combine(folder, $"photos-{count}"), Log);
                Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"photos: {photos.Photos:N0} at {photos.Width}x{photos.Height} ({photos.PixelsAsFloatGiB:F2} GiB as float), {photos.Epochs} epoch(s): " +
                    $"decode {(photos.CacheReused ? "reused" : $"{photos.DecodeImagesPerSecond:N0} images/s")}, training {photos.TrainImagesPerSecond:N1} images/s, " +
                    $"peak resident memory {photos.PeakResidentGiB:F2} GiB"));
                WriteJson(json, photos);
                return 0;
            case "fashion-mnist":
                var report = MemoryBenchmark.FashionMnist(images, rounds, Path.Combine(folder, "cache"), Log);
                Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"fashion-mnist: {report.Images:N0} images, {report.Rounds} round(s): in memory {report.InMemoryImagesPerSecond.Average():N0} images/s, " +
                    $"from the cache {report.CacheImagesPerSecond.Average():N0} images/s: cache/in-memory {report.Ratio:F3} (peak resident memory {Samples.Images.ProcessMemory.PeakResidentGiB():F2} GiB)"));
                WriteJson(json, report);
                return 0;
            default:
                Console.Error.WriteLine($"error: memory benchmark part '{part}' is not photos or fashion-mnist.");
                Console.Error.WriteLine(Usage);
                return 1;
        }
    }

    private static void WriteJson<T>(string? path, T report)
    {
        if (path is not null)
            Training.AtomicFile.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(report, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }
}
