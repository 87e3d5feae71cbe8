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
        """;

    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "distillation")
            return RunDistillation(args[1..]);
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
}
