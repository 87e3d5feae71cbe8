namespace Mtkd.Training.Fusion;

/// <summary>
/// The ranked-vote fusion methods. Each teacher ranks the classes by its logits (equal logits ordered by the
/// tie-break); each method turns the rankings into a tally per class whose largest value, ties broken by the
/// highest mean probability and then the lowest class index, is the winner. Elimination methods tally the round
/// in which a class was dropped, so the survivor has the largest tally.
/// </summary>
internal sealed class RankedVoting
{
    private readonly int teachers;
    private readonly int classes;
    private readonly int[][] position;   // position[t][c]: where teacher t ranks class c (0 = first choice)
    private readonly int[][] ranking;    // ranking[t][r]: the class teacher t ranks r-th
    private readonly int[] tieRank;      // tieRank[c]: 0 for the class the tie-break favours most
    private readonly int[] byPriority;
    private readonly int[,] prefer;      // prefer[a, b]: teachers ranking a above b
    private readonly double[] tally;
    private readonly bool[] remaining;
    private readonly float[] row;       // one teacher's logits, copied so the sort's comparer can read them
    private readonly double[] sorted;   // the tally in order, to find its smallest gap
    private readonly double[] nudged;

    public RankedVoting(int teacherCount, int classCount)
    {
        teachers = teacherCount;
        classes = classCount;
        position = Enumerable.Range(0, teacherCount).Select(_ => new int[classCount]).ToArray();
        ranking = Enumerable.Range(0, teacherCount).Select(_ => new int[classCount]).ToArray();
        tieRank = new int[classCount];
        byPriority = new int[classCount];
        prefer = new int[classCount, classCount];
        tally = new double[classCount];
        remaining = new bool[classCount];
        row = new float[classCount];
        sorted = new double[classCount];
        nudged = new double[classCount];
    }

    public int Vote(FusionMethod method, ReadOnlySpan<float> logits, double[] meanProbability, Span<float> score)
    {
        Rank(logits, meanProbability);
        Array.Clear(tally);
        switch (method)
        {
            case FusionMethod.Plurality:
                for (int t = 0; t < teachers; t++) tally[ranking[t][0]]++;
                break;
            case FusionMethod.Borda:
                ForEachPosition((c, r) => tally[c] += classes - 1 - r);
                break;
            case FusionMethod.Dowdall:
                ForEachPosition((c, r) => tally[c] += 1.0 / (r + 1));
                break;
            case FusionMethod.Copeland:
                CountPairwisePreferences();
                for (int a = 0; a < classes; a++)
                {
                    tally[a] = classes - 1; // shifts wins − losses to be non-negative
                    for (int b = 0; b < classes; b++)
                        if (a != b) tally[a] += Math.Sign(prefer[a, b] - prefer[b, a]);
                }
                break;
            case FusionMethod.Simpson:
                CountPairwisePreferences();
                for (int a = 0; a < classes; a++)
                {
                    int worstDefeat = 0;
                    for (int b = 0; b < classes; b++)
                        if (a != b) worstDefeat = Math.Max(worstDefeat, prefer[b, a]);
                    tally[a] = teachers - worstDefeat;
                }
                break;
            case FusionMethod.Bucklin:
                for (int depth = 1; depth <= classes; depth++)
                {
                    Array.Clear(tally);
                    ForEachPosition((c, r) => { if (r < depth) tally[c]++; });
                    if (tally.Max() * 2 > teachers) break;
                }
                break;
            case FusionMethod.Baldwin:
                EliminateByBorda(dropAllBelowMean: false);
                break;
            case FusionMethod.Nanson:
                EliminateByBorda(dropAllBelowMean: true);
                break;
            case FusionMethod.SingleTransferableVote:
                InstantRunoff();
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(method), method, "Not a ranked-vote method.");
        }
        return Normalise(score);
    }

    // Orders each teacher's classes by logit, equal logits by the tie-break.
    private void Rank(ReadOnlySpan<float> logits, double[] meanProbability)
    {
        for (int c = 0; c < classes; c++) byPriority[c] = c;
        Array.Sort(byPriority, (a, b) => meanProbability[a] != meanProbability[b] ? meanProbability[b].CompareTo(meanProbability[a]) : a.CompareTo(b));
        for (int r = 0; r < classes; r++) tieRank[byPriority[r]] = r;
        for (int t = 0; t < teachers; t++)
        {
            logits.Slice(t * classes, classes).CopyTo(row);
            var order = ranking[t];
            for (int c = 0; c < classes; c++) order[c] = c;
            Array.Sort(order, (a, b) => row[a] != row[b] ? row[b].CompareTo(row[a]) : tieRank[a].CompareTo(tieRank[b]));
            for (int r = 0; r < classes; r++) position[t][order[r]] = r;
        }
    }

    private void ForEachPosition(Action<int, int> visit)
    {
        for (int t = 0; t < teachers; t++)
            for (int c = 0; c < classes; c++) visit(c, position[t][c]);
    }

    private void CountPairwisePreferences()
    {
        Array.Clear(prefer);
        for (int t = 0; t < teachers; t++)
            for (int a = 0; a < classes; a++)
                for (int b = 0; b < classes; b++)
                    if (position[t][a] < position[t][b]) prefer[a, b]++;
    }

    // Borda points among the classes still in: a class gets one point per remaining class a teacher ranks below it.
    private long[] BordaAmongRemaining()
    {
        var points = new long[classes];
        for (int t = 0; t < teachers; t++)
        {
            int below = 0;
            for (int r = classes - 1; r >= 0; r--)
            {
                int c = ranking[t][r];
                if (!remaining[c]) continue;
                points[c] += below++;
            }
        }
        return points;
    }

    private void EliminateByBorda(bool dropAllBelowMean)
    {
        Array.Fill(remaining, true);
        int left = classes, round = 1;
        while (left > 1)
        {
            var points = BordaAmongRemaining();
            long total = Enumerable.Range(0, classes).Where(c => remaining[c]).Sum(c => points[c]);
            var dropped = new List<int>();
            if (dropAllBelowMean)
            {
                for (int c = 0; c < classes; c++)
                    if (remaining[c] && points[c] * left < total) dropped.Add(c); // below the mean, compared exactly
                if (dropped.Count == 0) break; // all level: the tie-break decides among them
            }
            else
            {
                dropped.Add(Weakest(c => points[c]));
            }
            foreach (var c in dropped)
            {
                remaining[c] = false;
                tally[c] = round;
                left--;
            }
            round++;
        }
        for (int c = 0; c < classes; c++)
            if (remaining[c]) tally[c] = round;
    }

    private void InstantRunoff()
    {
        Array.Fill(remaining, true);
        var firstChoices = new long[classes];
        int left = classes, round = 1;
        int winner = -1;
        while (left > 1)
        {
            Array.Clear(firstChoices);
            for (int t = 0; t < teachers; t++)
                firstChoices[ranking[t].First(c => remaining[c])]++;
            int leader = Enumerable.Range(0, classes).Where(c => remaining[c]).MaxBy(c => firstChoices[c]);
            if (firstChoices[leader] * 2 > teachers)
            {
                winner = leader;
                break;
            }
            int weakest = Weakest(c => firstChoices[c]);
            remaining[weakest] = false;
            tally[weakest] = round++;
            left--;
        }
        for (int c = 0; c < classes; c++)
            if (remaining[c]) tally[c] = c == winner || left == 1 ? round + 1 : round;
    }

    // The remaining class with the lowest count; on a tie, the one the tie-break favours least.
    private int Weakest(Func<int, long> count)
    {
        int weakest = -1;
        for (int c = 0; c < classes; c++)
        {
            if (!remaining[c]) continue;
            if (weakest < 0 || count(c) < count(weakest) || (count(c) == count(weakest) && tieRank[c] > tieRank[weakest]))
                weakest = c;
        }
        return weakest;
    }

    // Turns the tally into a distribution whose strict maximum is the winner.
    private int Normalise(Span<float> score)
    {
        tally.CopyTo(sorted, 0);
        Array.Sort(sorted);
        double smallestGap = 1;
        for (int i = 1; i < sorted.Length; i++)
            if (sorted[i] > sorted[i - 1]) smallestGap = Math.Min(smallestGap, sorted[i] - sorted[i - 1]);
        double sum = 0;
        for (int c = 0; c < classes; c++)
        {
            nudged[c] = tally[c] + 0.25 * smallestGap * (classes - 1 - tieRank[c]) / classes;
            sum += nudged[c];
        }
        int winner = 0;
        for (int c = 0; c < classes; c++)
        {
            score[c] = sum > 0 ? (float)(nudged[c] / sum) : 1f / classes;
            if (score[c] > score[winner]) winner = c;
        }
        return winner;
    }
}
