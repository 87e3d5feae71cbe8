using System.Globalization;
using System.Text;

namespace Mtkd.Training.SoftLabels;

/// <summary>CSV: a header <c>index,label,t0_c0,…</c>, one row per line, an empty label where it is unknown.</summary>
internal sealed class CsvSoftLabelWriter : SoftLabelWriter
{
    private readonly StreamWriter writer;
    private readonly StringBuilder line = new();

    public CsvSoftLabelWriter(string path, SoftLabelHeader header) : base(path, header)
    {
        if (header.TeacherTrainingRows?.Any(r => r is not null) == true)
            throw new ArgumentException($"{path}: CSV has no place for the teachers' training rows (out-of-bag soft labels need them); write Parquet instead.");
        writer = new StreamWriter(Stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        var names = new List<string> { "index", "label" };
        for (int t = 0; t < header.TeacherCount; t++)
            for (int c = 0; c < header.ClassCount; c++) names.Add(SoftLabelHeader.LogitName(t, c));
        writer.WriteLine(string.Join(',', names));
    }

    private protected override void AppendRow(long rowId, int label, ReadOnlySpan<float> logits)
    {
        line.Clear().Append(rowId.ToString(CultureInfo.InvariantCulture)).Append(',');
        if (label >= 0) line.Append(label.ToString(CultureInfo.InvariantCulture));
        foreach (var v in logits)
            line.Append(',').Append(v.ToString(CultureInfo.InvariantCulture)); // shortest text that reads back to the same float
        writer.WriteLine(line);
    }

    private protected override void Finish() => writer.Dispose();
}
