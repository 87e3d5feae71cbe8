using System.Globalization;
using System.Text;

namespace Mtkd.Training.SoftLabels;

/// <summary>
/// CSV: a header <c>index,label,t0_c0,…</c> (two classes: <c>index,label,t0_logit,…</c>, one logit per teacher), one row
/// per line, an empty label where it is unknown.
/// </summary>
internal sealed class CsvSoftLabelWriter : SoftLabelWriter
{
    private readonly StreamWriter writer;
    private readonly StringBuilder line = new();
    private readonly float[] stored;

    public CsvSoftLabelWriter(string path, SoftLabelHeader header) : base(path, header)
    {
        if (header.TeacherTrainingRows?.Any(r => r is not null) == true)
            throw new ArgumentException($"{path}: CSV has no place for the teachers' training rows (out-of-bag soft labels need them); write Parquet instead.");
        writer = new StreamWriter(Stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        var names = header.StoredNames(header.OneLogitPerTeacher);
        stored = new float[names.Length];
        writer.WriteLine(string.Join(',', ["index", "label", .. names]));
    }

    private protected override void AppendRow(long rowId, int label, ReadOnlySpan<float> logits)
    {
        line.Clear().Append(rowId.ToString(CultureInfo.InvariantCulture)).Append(',');
        if (label >= 0) line.Append(label.ToString(CultureInfo.InvariantCulture));
        SoftLabelHeader.ToStored(logits, stored, Header.OneLogitPerTeacher);
        foreach (var v in stored)
            line.Append(',').Append(v.ToString(CultureInfo.InvariantCulture)); // shortest text that reads back to the same float
        writer.WriteLine(line);
    }

    private protected override void Finish() => writer.Dispose();
}
