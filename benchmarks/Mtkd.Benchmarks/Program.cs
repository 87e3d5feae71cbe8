namespace Mtkd.Benchmarks;

public static class Program
{
    private const string Usage = """
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
}
