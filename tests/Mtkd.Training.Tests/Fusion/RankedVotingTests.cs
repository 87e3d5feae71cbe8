using Mtkd.Training.Fusion;

namespace Mtkd.Training.Tests.Fusion;

/// <summary>
/// Each ranked-vote method against profiles worked out by hand (the working is in the comments). Classes are
/// letters A, B, C, D = 0, 1, 2, 3; "7 × CDAB" is seven teachers ranking C first, then D, A, B.
/// </summary>
public class RankedVotingTests
{
    private const FusionMethod Plurality = FusionMethod.Plurality, Borda = FusionMethod.Borda, Dowdall = FusionMethod.Dowdall,
        Copeland = FusionMethod.Copeland, Simpson = FusionMethod.Simpson, Baldwin = FusionMethod.Baldwin, Nanson = FusionMethod.Nanson,
        Bucklin = FusionMethod.Bucklin, Stv = FusionMethod.SingleTransferableVote;

    // Wikipedia's Tennessee capital election, 100 voters: 42 × MNCK, 26 × NCKM, 15 × CKNM, 17 × KCNM with M, N, C, K = A, B, C, D.
    // Plurality: M 42. Borda: M 126, N 194, C 173, K 107. Dowdall: M 56.5, N 57.67, C 50.5, K 43.67.
    // N beats every rival head to head (68–32 over C and K, 58–42 over M): Copeland and Simpson pick N.
    // Bucklin: no majority of first choices; first or second: N 68 > 50. Baldwin drops K (107), then M (84 vs N 126, C 90), then C (32–68).
    // Nanson drops M and K (below the mean 150), then C. Instant runoff drops C (15, its votes go to K), then N (26, to K): K 58.
    private static readonly (string Ranking, int Count)[] Tennessee = [("ABCD", 42), ("BCDA", 26), ("CDBA", 15), ("DCBA", 17)];

    [Theory]
    [InlineData(Plurality, 0)]
    [InlineData(Borda, 1)]
    [InlineData(Dowdall, 1)]
    [InlineData(Copeland, 1)]
    [InlineData(Simpson, 1)]
    [InlineData(Bucklin, 1)]
    [InlineData(Baldwin, 1)]
    [InlineData(Nanson, 1)]
    [InlineData(Stv, 3)]
    public void Tennessee_capital(FusionMethod method, int winner) => Assert.Equal(winner, Winner(method, Tennessee));

    // 3 × ABC, 2 × BCA. A beats B and C 3–2, and has a majority of first choices, so every method but Borda picks A.
    // Borda: A 6, B 3 + 4 = 7, C 2. Dowdall: A 3 + 2/3 = 3.67, B 1.5 + 2 = 3.5, C 2.
    private static readonly (string, int)[] BordaAlone = [("ABC", 3), ("BCA", 2)];

    [Theory]
    [InlineData(Plurality, 0)]
    [InlineData(Borda, 1)]
    [InlineData(Dowdall, 0)]
    [InlineData(Copeland, 0)]
    [InlineData(Simpson, 0)]
    [InlineData(Bucklin, 0)]
    [InlineData(Baldwin, 0)]
    [InlineData(Nanson, 0)]
    [InlineData(Stv, 0)]
    public void Borda_rewards_broad_support_over_a_majority(FusionMethod method, int winner) => Assert.Equal(winner, Winner(method, BordaAlone));

    // 2 × DBAC, 7 × CDAB, 6 × ABCD, 3 × BCAD (18 teachers). Head to head: A–B 13–5, C–A 10–8, A–D 9–9, B–C 11–7, B–D 9–9, C–D 16–2.
    // Copeland (wins − losses): A 0, B 0, C +1, D −1 → C. Simpson (worst defeat): A 10, B 13, C 11, D 16 → A.
    // Bucklin: first choices D 2, C 7, A 6, B 3 (no majority of 18); first or second: A 6, B 11, C 10, D 9 → B.
    private static readonly (string, int)[] CopelandVersusSimpson = [("DBAC", 2), ("CDAB", 7), ("ABCD", 6), ("BCAD", 3)];

    [Theory]
    [InlineData(Plurality, 2)]
    [InlineData(Copeland, 2)]
    [InlineData(Simpson, 0)]
    [InlineData(Bucklin, 1)]
    public void Copeland_counts_wins_and_Simpson_weighs_defeats(FusionMethod method, int winner) =>
        Assert.Equal(winner, Winner(method, CopelandVersusSimpson));

    // 5 × BCDA, 7 × DCAB, 3 × ABDC, 1 × CABD (16 teachers). Borda: A 18, B 22, C 27, D 29 (mean 24).
    // Baldwin drops A; among B, C, D: B 17, C 14, D 17, so C goes; B beats D 9–7 → B.
    // Nanson drops A and B (below 24); D beats C 10–6 → D.
    // Instant runoff: B 5, D 7, A 3, C 1; C's vote goes to A (4); A's four go to B: 9 of 16 → B.
    // Bucklin: first or second choices A 4, B 8, C 13, D 7 → C. Copeland: A −1, B 0, C 0, D +1 → D. Simpson: A 13, B 11, C 10, D 9 → D.
    // Dowdall: A 7.08, B 8.58, C 7.75, D 9.92 → D.
    private static readonly (string, int)[] BaldwinVersusNanson = [("BCDA", 5), ("DCAB", 7), ("ABDC", 3), ("CABD", 1)];

    [Theory]
    [InlineData(Plurality, 3)]
    [InlineData(Borda, 3)]
    [InlineData(Dowdall, 3)]
    [InlineData(Copeland, 3)]
    [InlineData(Simpson, 3)]
    [InlineData(Baldwin, 1)]
    [InlineData(Nanson, 3)]
    [InlineData(Bucklin, 2)]
    [InlineData(Stv, 1)]
    public void Baldwin_and_Nanson_eliminate_differently(FusionMethod method, int winner) => Assert.Equal(winner, Winner(method, BaldwinVersusNanson));

    // A Condorcet cycle, 3 teachers: logits (A, B, C) = (5, 1, 0), (0, 2, 1), (1, 0, 2), i.e. ABC, BCA, CAB.
    // Every tally is level, so the tie-break decides: mean probabilities A 0.437, C 0.306, B 0.258 → A.
    // Instant runoff and Baldwin must drop someone from a three-way tie: the tie-break's weakest, B. Then C beats A 2–1.
    private static readonly float[] Cycle = [5, 1, 0, 0, 2, 1, 1, 0, 2];

    [Theory]
    [InlineData(Plurality, 0)]
    [InlineData(Borda, 0)]
    [InlineData(Dowdall, 0)]
    [InlineData(Copeland, 0)]
    [InlineData(Simpson, 0)]
    [InlineData(Bucklin, 0)]
    [InlineData(Nanson, 0)]
    [InlineData(Baldwin, 2)]
    [InlineData(Stv, 2)]
    public void Ties_go_to_the_highest_mean_probability(FusionMethod method, int winner)
    {
        var fusion = new EnsembleFusion(method, 3, 3);
        Assert.Equal(winner, fusion.Fuse(Cycle, new float[3]));
    }

    // Equal mean probabilities too: the lower class index wins. Two teachers, BA and AB, with mirrored logits.
    [Theory]
    [InlineData(Plurality)]
    [InlineData(Borda)]
    [InlineData(Copeland)]
    [InlineData(Stv)]
    public void Full_ties_go_to_the_lowest_class_index(FusionMethod method) =>
        Assert.Equal(0, new EnsembleFusion(method, 2, 2).Fuse([0, 1, 1, 0], new float[2]));

    [Fact]
    public void Vote_scores_are_distributions_whose_argmax_is_the_winner()
    {
        var random = new Random(3);
        foreach (var method in Enum.GetValues<FusionMethod>())
        {
            var fusion = new EnsembleFusion(method, 3, 10, [0.2, 0.3, 0.5]);
            var score = new float[10];
            for (int row = 0; row < 200; row++)
            {
                // Small integer logits make ties common, which is where the tie-break and the nudge matter.
                var logits = Enumerable.Range(0, 30).Select(_ => (float)random.Next(4)).ToArray();
                int winner = fusion.Fuse(logits, score);
                Assert.Equal(1.0, score.Sum(), 5);
                Assert.All(score, s => Assert.True(s >= 0));
                int argmax = Array.IndexOf(score, score.Max());
                Assert.True(winner == argmax, $"{method}: winner {winner}, argmax of score {argmax}");
                if (EnsembleFusion.IsRankedVote(method))
                    Assert.Equal(1, score.Count(s => s == score.Max())); // probabilities may tie exactly; tallies are nudged apart
            }
        }
    }

    private static int Winner(FusionMethod method, (string Ranking, int Count)[] profile)
    {
        int classes = profile[0].Ranking.Length;
        var logits = new List<float>();
        foreach (var (ranking, count) in profile)
            for (int i = 0; i < count; i++)
            {
                var row = new float[classes];
                for (int r = 0; r < classes; r++) row[ranking[r] - 'A'] = classes - 1 - r;
                logits.AddRange(row);
            }
        int teachers = profile.Sum(p => p.Count);
        return new EnsembleFusion(method, teachers, classes, Enumerable.Repeat(1.0, teachers).ToArray()).Fuse(logits.ToArray(), new float[classes]);
    }
}
