namespace Mtkd.Benchmarks;

/// <summary>What the scoring benchmark runs: teacher files (none: three random teacher-cnn networks), images, batch size, timed passes, and where its JSON goes.</summary>
internal sealed record ScoringBenchmarkSettings(IReadOnlyList<string> Teachers, int Images, int BatchSize, int Repeats, string? JsonPath);
