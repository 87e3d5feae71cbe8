using Mtkd.Training.SoftLabels;

namespace Mtkd.Cli.Commands;

/// <summary>
/// Splitting <c>mtkd score</c> across machines: shard I of N scores every N-th block of rows starting at block I
/// and writes a Parquet part; <see cref="Merge"/> joins the parts by index into the file one run would write.
/// </summary>
internal static class ScoreShards
{
    /// <summary>Blocks are this many batches, so every batch holds the rows it would hold in one unsharded run.</summary>
    public const int BatchesPerBlock = 16;

    public readonly record struct Shard(int Index, int Count);

    /// <summary>
    /// "I/N", or "auto/N" for the index a scheduler gives the task: a Kubernetes Indexed Job's
    /// JOB_COMPLETION_INDEX or a Slurm array's SLURM_ARRAY_TASK_ID.
    /// </summary>
    public static Shard Parse(string text, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[1], out int count) || count < 1)
            throw new ArgumentException($"--shard '{text}': expected I/N (shard I of N, 0 ≤ I < N) or auto/N.");
        string index = parts[0];
        if (index == "auto")
            index = environment("JOB_COMPLETION_INDEX") ?? environment("SLURM_ARRAY_TASK_ID")
                ?? throw new ArgumentException($"--shard '{text}': neither JOB_COMPLETION_INDEX (Kubernetes) nor SLURM_ARRAY_TASK_ID (Slurm) is set; give the index as I/N.");
        if (!int.TryParse(index, out int i) || i < 0 || i >= count)
            throw new ArgumentException($"--shard '{text}': index '{index}' is not in 0..{count - 1}.");
        return new Shard(i, count);
    }

    /// <summary>The rows of a shard: blocks of <paramref name="blockRows"/> rows, block b belonging to shard b mod N.</summary>
    public static int[] Rows(int rowCount, Shard shard, int blockRows)
    {
        var rows = new List<int>();
        for (int start = shard.Index * blockRows; start < rowCount; start += shard.Count * blockRows)
            for (int r = start; r < Math.Min(rowCount, start + blockRows); r++) rows.Add(r);
        return rows.ToArray();
    }

    /// <summary>
    /// Reads the parts, checks they come from the same teachers and classes and together hold every index from 0
    /// exactly once, and writes them in index order.
    /// </summary>
    public static SoftLabelSet Merge(IReadOnlyList<string> parts, string output, int topK)
    {
        if (parts.Count == 0) throw new ArgumentException("--merge needs the part files to join.");
        var sets = parts.Select(SoftLabelFile.Read).ToArray();
        var header = sets[0].Header;
        for (int p = 1; p < sets.Length; p++)
            if (Describe(sets[p].Header) != Describe(header) || Rows(sets[p].Header) != Rows(header))
                throw new InvalidDataException($"{parts[p]} was scored by other teachers or classes than {parts[0]} ({Describe(sets[p].Header)} against {Describe(header)}).");
        int total = sets.Sum(s => s.RowCount);
        var source = new (int Part, int Row)[total];
        var seen = new bool[total];
        for (int p = 0; p < sets.Length; p++)
            for (int r = 0; r < sets[p].RowCount; r++)
            {
                long id = sets[p].RowIds[r];
                if (id < 0 || id >= total)
                    throw new InvalidDataException($"{parts[p]}: index {id} is outside 0..{total - 1}, the {total:N0} rows of all parts; a part is missing or from another run.");
                if (seen[id])
                    throw new InvalidDataException($"{parts[p]}: index {id} is also in {parts[source[id].Part]}; the parts overlap.");
                seen[id] = true;
                source[id] = (p, r);
            }
        var labels = new int[total];
        var logits = new float[(long)total * header.Width];
        for (int id = 0; id < total; id++)
        {
            var (p, r) = source[id];
            labels[id] = sets[p].Labels[r];
            sets[p].Row(r).CopyTo(logits.AsSpan(id * header.Width, header.Width));
        }
        var merged = new SoftLabelSet(header, Enumerable.Range(0, total).Select(i => (long)i).ToArray(), labels, logits);
        SoftLabelWriter.Write(output, merged, topK);
        return merged;
    }

    private static string Describe(SoftLabelHeader h) =>
        $"{h.TeacherCount} teachers [{string.Join(", ", h.TeacherNames)}], {h.ClassCount} classes{(h.TeacherTrainingRows is null ? "" : ", with training rows")}";

    private static string Rows(SoftLabelHeader h) => h.TeacherTrainingRows is { } rows ? string.Join(";", rows.Select(r => r?.Encode())) : "";
}
