using Mtkd.Training.Data;
namespace Mtkd.MLNet.SoftLabels;

/// <summary>Settings of <c>mlContext.Data.SaveAsSoftLabels</c>.</summary>
public sealed class SoftLabelSaveOptions
{
    /// <summary>Column of teacher logits, teacher-major. Default "TeacherLogits".</summary>
    public string TeacherLogitsColumnName { get; set; } = TeacherColumns.Logits;

    /// <summary>Label column: a key, or whole-number class indices. Default "Label"; when absent every label is written as unknown.</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>Integer column to write as the row id. Default null: the row's position in the data (0, 1, …).</summary>
    public string? IndexColumnName { get; set; }

    /// <summary>Teachers in the logits column. Default null: read from the column's annotations (set by ScoreTeachers).</summary>
    public int? TeacherCount { get; set; }

    /// <summary>
    /// Logits kept per teacher and row, for datasets with many classes (Parquet only); the rest are restored on
    /// load as one floor value that keeps the total probability. Default 0: keep every logit.
    /// </summary>
    public int TopK { get; set; }

    /// <summary>
    /// The rows each teacher trained on, in the logits column's teacher order (null for a teacher whose rows are
    /// unknown), kept in the file's metadata so a later distillation can use out-of-bag soft labels; read them from
    /// Mtkd's teacher files with <see cref="Mtkd.Training.SoftLabels.TrainingRowSet.FromOnnx"/>. Parquet only. Default null.
    /// </summary>
    public IReadOnlyList<Mtkd.Training.SoftLabels.TrainingRowSet?>? TeacherTrainingRows { get; set; }
}

/// <summary>What a soft-label save wrote; <c>TopK</c> is 0 when every logit was kept (also when k was at least the class count).</summary>
public sealed record SoftLabelFileSummary(string Path, long RowCount, long FileBytes, int TeacherCount, int ClassCount, int TopK)
{
    public double BytesPerRow => RowCount == 0 ? 0 : (double)FileBytes / RowCount;
}
