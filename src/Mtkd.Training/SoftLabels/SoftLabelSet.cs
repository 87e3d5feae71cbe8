namespace Mtkd.Training.SoftLabels;

/// <summary>
/// What a soft-label dataset holds besides its rows: teachers, classes and their names, and, where known, the rows
/// each teacher trained on (<see cref="TeacherTrainingRows"/>: null for a teacher whose rows are unknown).
/// </summary>
public sealed record SoftLabelHeader(int TeacherCount, int ClassCount, IReadOnlyList<string> TeacherNames, IReadOnlyList<string>? ClassNames = null,
    IReadOnlyList<TrainingRowSet?>? TeacherTrainingRows = null)
{
    /// <summary>Whether every teacher's training rows are known, so out-of-bag soft labels can be formed.</summary>
    public bool KnowsTrainingRows => TeacherTrainingRows is { } rows && rows.All(r => r is not null);

    /// <summary>Logits per row: teachers × classes, teacher-major.</summary>
    public int Width => TeacherCount * ClassCount;

    /// <summary>Checks counts and names; a mismatch names what was expected.</summary>
    public void Validate()
    {
        if (TeacherCount < 1 || ClassCount < 1)
            throw new ArgumentException($"A soft-label dataset needs at least one teacher and one class; got {TeacherCount} teachers and {ClassCount} classes.");
        if (TeacherNames.Count != TeacherCount)
            throw new ArgumentException($"{TeacherNames.Count} teacher names given for {TeacherCount} teachers.");
        if (ClassNames is not null && ClassNames.Count != ClassCount)
            throw new ArgumentException($"{ClassNames.Count} class names given for {ClassCount} classes.");
        if (TeacherTrainingRows is not null && TeacherTrainingRows.Count != TeacherCount)
            throw new ArgumentException($"Training rows given for {TeacherTrainingRows.Count} teachers; the dataset has {TeacherCount}.");
    }

    /// <summary>The column name of one logit, "t{teacher}_c{class}", as in the files and ML.NET's slot names.</summary>
    public static string LogitName(int teacher, int @class) => $"t{teacher}_c{@class}";

    /// <summary>
    /// The column of a two-class teacher's one logit, "t{teacher}_logit": z = logit(class 1) − logit(class 0), as a
    /// binary classifier gives it. Files of two classes are written so, one value per teacher; read back as [0, z],
    /// the same distribution at every temperature.
    /// </summary>
    public static string BinaryLogitName(int teacher) => $"t{teacher}_logit";

    /// <summary>Whether files of this header store one logit per teacher (two classes) rather than one per class.</summary>
    internal bool OneLogitPerTeacher => ClassCount == 2;

    /// <summary>The stored logit columns, in file order.</summary>
    internal string[] StoredNames(bool oneLogit) => oneLogit
        ? Enumerable.Range(0, TeacherCount).Select(BinaryLogitName).ToArray()
        : Enumerable.Range(0, Width).Select(i => LogitName(i / ClassCount, i % ClassCount)).ToArray();

    /// <summary>A row's logits as stored: each teacher's z = l₁ − l₀ when <paramref name="oneLogit"/>, else as they are.</summary>
    internal static void ToStored(ReadOnlySpan<float> logits, Span<float> stored, bool oneLogit)
    {
        if (!oneLogit) { logits.CopyTo(stored); return; }
        for (int t = 0; t < stored.Length; t++) stored[t] = logits[2 * t + 1] - logits[2 * t];
    }

    /// <summary>A stored row back as logits: [0, z] per teacher when <paramref name="oneLogit"/>, else as it is.</summary>
    internal static void FromStored(ReadOnlySpan<float> stored, Span<float> logits, bool oneLogit)
    {
        if (!oneLogit) { stored.CopyTo(logits); return; }
        for (int t = 0; t < stored.Length; t++) (logits[2 * t], logits[2 * t + 1]) = (0, stored[t]);
    }
}

/// <summary>
/// Soft labels in memory: per row an id (the row's position in the scored data, to join features back), a label
/// (−1 when unknown) and every teacher's logits, teacher-major.
/// </summary>
public sealed class SoftLabelSet
{
    public SoftLabelSet(SoftLabelHeader header, long[] rowIds, int[] labels, float[] logits)
    {
        header.Validate();
        if (labels.Length != rowIds.Length || logits.Length != (long)rowIds.Length * header.Width)
            throw new ArgumentException(
                $"{rowIds.Length} row ids, {labels.Length} labels and {logits.Length} logits do not make rows of {header.TeacherCount} teachers × {header.ClassCount} classes.");
        int bad = Array.FindIndex(labels, l => l < -1 || l >= header.ClassCount);
        if (bad >= 0)
            throw new ArgumentException($"Row {bad}: label {labels[bad]} is outside 0..{header.ClassCount - 1} (or −1 for unknown).");
        Header = header;
        RowIds = rowIds;
        Labels = labels;
        Logits = logits;
    }

    public SoftLabelHeader Header { get; }
    public int TeacherCount => Header.TeacherCount;
    public int ClassCount => Header.ClassCount;
    public int RowCount => RowIds.Length;
    public long[] RowIds { get; }

    /// <summary>Class index per row, −1 where the label is unknown.</summary>
    public int[] Labels { get; }
    public float[] Logits { get; }

    /// <summary>True when every row has a label.</summary>
    public bool IsFullyLabelled => Labels.All(l => l >= 0);

    /// <summary>All teachers' logits of one row.</summary>
    public ReadOnlySpan<float> Row(int row) => Logits.AsSpan(row * Header.Width, Header.Width);
}
