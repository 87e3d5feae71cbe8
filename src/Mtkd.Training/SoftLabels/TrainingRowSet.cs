using System.Collections;
using System.Globalization;
using Mtkd.Training.Onnx;

namespace Mtkd.Training.SoftLabels;

/// <summary>
/// The rows a teacher trained on, by row id (the row's position in its data file, as soft-label files index rows),
/// as a bitmap. It travels in the teacher's ONNX metadata and in soft-label files, so a later run can give each
/// row the teachers that never saw it (out-of-bag soft labels).
/// </summary>
public sealed class TrainingRowSet
{
    /// <summary>The ONNX metadata property and soft-label metadata entry that hold it.</summary>
    public const string MetadataKey = "mtkd.training_rows";

    private readonly BitArray bits;

    private TrainingRowSet(BitArray bits) => this.bits = bits;

    /// <summary>Row ids run 0 .. RowCount − 1.</summary>
    public int RowCount => bits.Length;

    /// <summary>How many rows the teacher trained on.</summary>
    public int Count { get { int n = 0; for (int i = 0; i < bits.Length; i++) if (bits[i]) n++; return n; } }

    public static TrainingRowSet Of(IEnumerable<int> rowIds, int rowCount)
    {
        var bits = new BitArray(rowCount);
        foreach (int id in rowIds)
        {
            if ((uint)id >= (uint)rowCount) throw new ArgumentOutOfRangeException(nameof(rowIds), id, $"Row id {id} is outside 0..{rowCount - 1}.");
            bits[id] = true;
        }
        return new TrainingRowSet(bits);
    }

    /// <summary>Whether the teacher trained on row <paramref name="rowId"/> (false past the end: rows it never knew of).</summary>
    public bool Contains(long rowId) => rowId >= 0 && rowId < bits.Length && bits[(int)rowId];

    /// <summary>
    /// Whether teacher k trained on each row, [rows, K] row-major (as DistillationTargets.InBag takes it), for rows
    /// named by their ids; every teacher's rows must be known.
    /// </summary>
    public static bool[] InBagMask(IReadOnlyList<TrainingRowSet?> teachers, IReadOnlyList<long> rowIds)
    {
        int k = teachers.Count;
        if (teachers.Any(t => t is null)) throw new ArgumentException("Every teacher's training rows are needed for an in-bag mask.", nameof(teachers));
        var mask = new bool[(long)rowIds.Count * k];
        for (int i = 0; i < rowIds.Count; i++)
            for (int t = 0; t < k; t++)
                mask[(long)i * k + t] = teachers[t]!.Contains(rowIds[i]);
        return mask;
    }

    /// <summary>"rowCount:base64 bitmap", row id i in bit i % 8 of byte i / 8.</summary>
    public string Encode()
    {
        var bytes = new byte[(bits.Length + 7) / 8];
        bits.CopyTo(bytes, 0);
        return string.Create(CultureInfo.InvariantCulture, $"{bits.Length}:{Convert.ToBase64String(bytes)}");
    }

    /// <summary>Reads <see cref="Encode"/>'s form; <paramref name="source"/> names where it came from in errors.</summary>
    public static TrainingRowSet Decode(string text, string source)
    {
        int colon = text.IndexOf(':');
        byte[] bytes;
        if (colon <= 0 || !int.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out int count))
            throw new InvalidDataException($"{source}: '{MetadataKey}' should be 'rowCount:base64'; it starts '{Truncate(text)}'.");
        try
        {
            bytes = Convert.FromBase64String(text[(colon + 1)..]);
        }
        catch (FormatException)
        {
            throw new InvalidDataException($"{source}: '{MetadataKey}' is not valid base64 after '{count}:'.");
        }
        if (bytes.Length != (count + 7) / 8)
            throw new InvalidDataException($"{source}: '{MetadataKey}' holds {bytes.Length} bytes for {count} rows; expected {(count + 7) / 8}.");
        return new TrainingRowSet(new BitArray(bytes) { Length = count });
    }

    /// <summary>The training rows an ONNX teacher's metadata records (Mtkd's bagged teachers write them), or null.</summary>
    public static TrainingRowSet? FromOnnx(string path) =>
        OnnxModelInfo.Read(path).Metadata.TryGetValue(MetadataKey, out var text) ? Decode(text, path) : null;

    private static string Truncate(string text) => text.Length <= 20 ? text : text[..20] + "…";
}
