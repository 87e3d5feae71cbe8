using System.Globalization;

namespace Mtkd.Benchmarks;

internal sealed record ScoringBenchmarkSettings(IReadOnlyList<string> Teachers, int Images, int BatchSize, int Repeats, string? JsonPath)
{
    public static ScoringBenchmarkSettings Parse(string[] args)
    {
        var teachers = new List<string>();
        int images = 10000, batch = 256, repeats = 3;
        string? json = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Positive() => int.TryParse(Next(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v
                : throw new ArgumentException($"{args[i - 1]} needs a positive whole number, got '{args[i]}'.");
            switch (args[i])
            {
                case "--teachers":
                    while (i + 1 < args.Length && !args[i + 1].StartsWith("--")) teachers.Add(args[++i]);
                    break;
                case "--images": images = Positive(); break;
                case "--batch-size": batch = Positive(); break;
                case "--repeats": repeats = Positive(); break;
                case "--json": json = Next(); break;
                case "--quick": images = 512; repeats = 1; break;
                default: throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }
        return new ScoringBenchmarkSettings(teachers, images, batch, repeats, json);
    }
}
