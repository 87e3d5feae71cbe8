namespace Mtkd.Training.SoftLabels;

/// <summary>
/// Writes a soft-label dataset row by row: Parquet, or CSV when the path ends in ".csv". The file appears under
/// its name only when <see cref="Complete"/> succeeds; until then rows go to a temporary file beside it, which
/// <see cref="Dispose"/> removes, so a failed run never replaces a good file.
/// </summary>
public abstract class SoftLabelWriter : IDisposable
{
    private readonly string path;
    private readonly string temporaryPath;
    private bool completed;

    private protected SoftLabelWriter(string path, SoftLabelHeader header)
    {
        header.Validate();
        this.path = path;
        Header = header;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory);
        AtomicFile.RemoveLeftovers(directory, Path.GetFileName(path)); // the temporary file of a score that was killed
        temporaryPath = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        Stream = File.Create(temporaryPath);
    }

    public SoftLabelHeader Header { get; }
    public long RowCount { get; private set; }
    private protected Stream Stream { get; }

    /// <summary>Opens a writer for <paramref name="path"/>: Parquet unless it ends in ".csv".</summary>
    /// <param name="path">The file to write.</param>
    /// <param name="header">Teachers, classes and their names.</param>
    /// <param name="topK">Logits kept per teacher and row (Parquet only); 0 or ≥ the class count keeps them all.</param>
    public static SoftLabelWriter Create(string path, SoftLabelHeader header, int topK = 0)
    {
        if (topK < 0)
            throw new ArgumentOutOfRangeException(nameof(topK), topK, "topK must be 0 (keep every logit) or positive.");
        bool keepAll = topK == 0 || topK >= header.ClassCount;
        if (IsCsv(path))
            return keepAll ? new CsvSoftLabelWriter(path, header)
                : throw new ArgumentException($"'{path}': top-k soft labels need Parquet; CSV files hold every logit (index,label,t0_c0,…).", nameof(topK));
        return new ParquetSoftLabelWriter(path, header, keepAll ? 0 : topK);
    }

    /// <summary>Writes a whole in-memory dataset.</summary>
    public static void Write(string path, SoftLabelSet set, int topK = 0)
    {
        using var writer = Create(path, set.Header, topK);
        for (int i = 0; i < set.RowCount; i++)
            writer.Append(set.RowIds[i], set.Labels[i], set.Row(i));
        writer.Complete();
    }

    internal static bool IsCsv(string path) => path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);

    /// <summary>Adds one row: its id, its class index (−1 when unknown) and every teacher's logits, teacher-major.</summary>
    public void Append(long rowId, int label, ReadOnlySpan<float> logits)
    {
        ObjectDisposedException.ThrowIf(completed, this);
        if (logits.Length != Header.Width)
            throw new ArgumentException($"Row {rowId} has {logits.Length} logits; expected {Header.TeacherCount} teachers × {Header.ClassCount} classes = {Header.Width}.");
        if (label < -1 || label >= Header.ClassCount)
            throw new ArgumentOutOfRangeException(nameof(label), label, $"Row {rowId}: label must be −1 (unknown) or 0..{Header.ClassCount - 1}.");
        AppendRow(rowId, label, logits);
        RowCount++;
    }

    /// <summary>Finishes the file and moves it into place under its name.</summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(completed, this);
        Finish();
        Stream.Dispose();
        File.Move(temporaryPath, path, overwrite: true);
        completed = true;
    }

    private protected abstract void AppendRow(long rowId, int label, ReadOnlySpan<float> logits);

    private protected abstract void Finish();

    public void Dispose()
    {
        Stream.Dispose();
        if (!completed && File.Exists(temporaryPath))
            File.Delete(temporaryPath);
        GC.SuppressFinalize(this);
    }
}
