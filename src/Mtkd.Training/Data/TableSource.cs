using System.Globalization;

namespace Mtkd.Training.Data;

/// <summary>
/// A table of numeric features: a CSV (or TSV) file with a header, one row per example, a label column named by
/// <c>--label-column</c> and every other column a number (an optional <c>split</c> column of train, val or test gives
/// the splits; without it, the fixed seeded <see cref="DatasetSource.TestFraction"/> of each class is the test split).
/// Each row becomes a feature vector of F values, held as an F×1×1 "image" that MLP students (and teachers taking
/// [batch, F]) read; an empty label is an unlabelled row. Class names are the label's values, in numeric order when
/// they are all numbers, else ordinal order. Small enough to read whole: no pixel cache.
/// </summary>
public sealed class TableSource : DatasetSource
{
    /// <summary>The name of the optional column that assigns rows to train, val or test.</summary>
    public const string SplitColumn = "split";

    private readonly Dictionary<string, (float[] Features, int[] Labels)> splits;

    private TableSource(string path, IReadOnlyList<string> classNames, IReadOnlyList<string> featureNames,
        Dictionary<string, (float[] Features, int[] Labels)> splits, bool splitsGiven) : base(path, classNames, splitsGiven)
    {
        FeatureNames = featureNames;
        this.splits = splits;
    }

    /// <summary>The feature columns, in file order: what each of the F values of a row is.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>F values per row, as an F×1×1 input (no image shape).</summary>
    public override ImageFormat? NativeFormat => new(FeatureNames.Count, 1, 1);

    public override bool HasSplit(string split) => splits.TryGetValue(CheckSplit(split), out var s) && s.Labels.Length > 0;

    internal override CachedImages LoadCached(string split, ImageFormat format, string? cacheRoot = null, IReadOnlyList<string>? classNames = null,
        Action<string>? log = null, CancellationToken cancellation = default)
    {
        if (!HasSplit(split))
            throw new ArgumentException($"{Location} has no {split} rows (it has {string.Join(", ", splits.Where(s => s.Value.Labels.Length > 0).Select(s => s.Key))}).");
        var (features, labels) = splits[split];
        var data = new ImageDataset((float[])features.Clone(), (int[])labels.Clone(), FeatureNames.Count, 1, 1, classNames ?? ClassNames);
        return new CachedImages(data, [], Rebuilt: false, CacheDirectory: "");
    }

    /// <summary>
    /// Reads the table at <paramref name="path"/> with <paramref name="labelColumn"/> as its label. Refused, naming the
    /// file, line and column: a missing label column, a value that is not a finite number, a row of the wrong width,
    /// fewer than two classes, and a split value other than train, val or test.
    /// </summary>
    public static TableSource Open(string path, string labelColumn, string flag = "--data")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentException.ThrowIfNullOrWhiteSpace(labelColumn);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new FileNotFoundException($"{flag} {path}: no such file; --label-column reads a CSV or TSV table with a header.", full);
        char separator = Path.GetExtension(full).Equals(".tsv", StringComparison.OrdinalIgnoreCase) ? '\t' : ',';
        var records = CsvRecords.Read(full, separator);
        if (records.Count < 2)
            throw new InvalidDataException($"{full}: expected a header and at least one row; found {records.Count} line(s).");
        var header = records[0].Fields.Select(h => h.Trim()).ToArray();
        int label = Array.FindIndex(header, h => h.Equals(labelColumn, StringComparison.OrdinalIgnoreCase));
        if (label < 0)
            throw new ArgumentException($"--label-column {labelColumn}: {full} has no such column; its columns are {string.Join(", ", header)}.");
        int split = Array.FindIndex(header, h => h.Equals(SplitColumn, StringComparison.OrdinalIgnoreCase));
        var featureColumns = Enumerable.Range(0, header.Length).Where(i => i != label && i != split).ToArray();
        if (featureColumns.Length == 0)
            throw new InvalidDataException($"{full}: no feature columns besides the label '{header[label]}'.");

        var rows = new List<(float[] Features, string Label, string Split)>();
        foreach (var (line, fields) in records.Skip(1))
        {
            if (fields.Length != header.Length)
                throw new InvalidDataException($"{full} line {line}: {fields.Length} values; the header has {header.Length} columns.");
            var values = new float[featureColumns.Length];
            for (int k = 0; k < featureColumns.Length; k++)
            {
                var text = fields[featureColumns[k]].Trim();
                if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out values[k]) || !float.IsFinite(values[k]))
                    throw new InvalidDataException($"{full} line {line}, column '{header[featureColumns[k]]}': '{text}' is not a finite number; every column but " +
                        $"the label '{header[label]}'{(split >= 0 ? $" and '{header[split]}'" : "")} must be numeric.");
            }
            string splitName = split >= 0 ? fields[split].Trim().ToLowerInvariant() : "";
            if (split >= 0 && !SplitNames.Contains(splitName))
                throw new InvalidDataException($"{full} line {line}, column '{header[split]}': '{fields[split]}'; expected train, val or test.");
            rows.Add((values, fields[label].Trim(), splitName));
        }

        var labels = rows.Select(r => r.Label).Where(l => l.Length > 0).Distinct().ToArray();
        bool numeric = labels.All(l => double.TryParse(l, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        string[] classes = numeric
            ? [.. labels.OrderBy(l => double.Parse(l, CultureInfo.InvariantCulture))]
            : [.. labels.Order(StringComparer.Ordinal)];
        if (classes.Length < 2)
            throw new InvalidDataException($"{full}: column '{header[label]}' has {classes.Length} class(es) ({string.Join(", ", classes)}); a classifier needs at least two.");
        var index = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
        var entries = rows.Select(r => (r.Features, Label: r.Label.Length == 0 ? ImageDataset.Unlabeled : index[r.Label], r.Split)).ToList();

        var assigned = split >= 0
            ? SplitNames.ToDictionary(s => s, s => entries.Where(e => e.Split == s).ToList())
            : TestShare(entries, e => e.Label) is var (train, test) ? new Dictionary<string, List<(float[], int, string)>> { ["train"] = train, ["test"] = test } : null!;
        var splits = assigned.ToDictionary(p => p.Key, p => (p.Value.SelectMany(e => e.Item1).ToArray(), p.Value.Select(e => e.Item2).ToArray()));
        return new TableSource(full, classes, featureColumns.Select(i => header[i]).ToArray(), splits, splitsGiven: split >= 0);
    }
}
