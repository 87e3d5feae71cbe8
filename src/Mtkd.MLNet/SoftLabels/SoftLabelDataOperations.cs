using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.Training.SoftLabels;
using Mtkd.Training.Data;

namespace Mtkd.MLNet.SoftLabels;

/// <summary>Saving and loading soft-label datasets, as extension methods on <c>mlContext.Data</c>.</summary>
public static class SoftLabelDataOperations
{
    /// <summary>
    /// Writes the teacher logits of <paramref name="data"/> with a row id and the label, as Parquet (or CSV when the
    /// path ends in ".csv"), streaming through a cursor so only one Parquet row group is held in memory. The
    /// file replaces <paramref name="path"/> only once it is complete.
    /// </summary>
    public static SoftLabelFileSummary SaveAsSoftLabels(this DataOperationsCatalog catalog, IDataView data, string path, SoftLabelSaveOptions? options = null)
    {
        options ??= new SoftLabelSaveOptions();
        var schema = data.Schema;
        var logits = SoftLabelColumns.Logits(schema, options.TeacherLogitsColumnName);
        var label = schema.GetColumnOrNull(options.LabelColumnName);
        var (keyCount, classNames) = SoftLabelColumns.Classes(label);
        int teachers = SoftLabelColumns.TeacherCount(logits, options.TeacherCount, keyCount);
        int width = ((VectorDataViewType)logits.Type).Size;
        int classes = width / teachers;
        if (keyCount is { } k && k != classes)
            throw new ArgumentException($"Label column '{label!.Value.Name}' has {k} classes, but '{logits.Name}' holds {classes} logits per teacher.");
        var index = options.IndexColumnName is { } indexName
            ? schema.GetColumnOrNull(indexName) ?? throw new ArgumentException($"Index column '{indexName}' not found.")
            : (DataViewSchema.Column?)null;
        if (index is { } i && i.Type != NumberDataViewType.Int64 && i.Type != NumberDataViewType.Int32)
            throw new ArgumentException($"Index column '{i.Name}' is {i.Type}; expected Int32 or Int64.");

        var header = new SoftLabelHeader(teachers, classes,
            SoftLabelColumns.TeacherNames(logits) ?? Enumerable.Range(0, teachers).Select(t => $"t{t}").ToArray(),
            classNames?.Length == classes ? classNames : null, options.TeacherTrainingRows);
        var needed = new[] { (DataViewSchema.Column?)logits, label, index }.OfType<DataViewSchema.Column>();
        using var writer = SoftLabelWriter.Create(path, header, options.TopK);
        using (var cursor = data.GetRowCursor(needed))
        {
            var logitGetter = cursor.GetGetter<VBuffer<float>>(logits);
            Func<int> labelOf = label is { } l ? SoftLabelColumns.ClassIndex(cursor, l, classes) : () => -1;
            Func<long> idOf = IdGetter(cursor, index);
            VBuffer<float> row = default;
            var dense = new float[width];
            while (cursor.MoveNext())
            {
                logitGetter(ref row);
                row.CopyTo(dense);
                writer.Append(idOf(), labelOf(), dense);
            }
        }
        writer.Complete();
        // k at or above the class count keeps every logit (the writer stores the file in full): report what was written.
        return new SoftLabelFileSummary(path, writer.RowCount, new FileInfo(path).Length, teachers, classes, options.TopK >= classes ? 0 : options.TopK);
    }

    /// <summary>The row's index: its position, or the value of an Int32/Int64 index column.</summary>
    internal static Func<long> IdGetter(DataViewRowCursor cursor, DataViewSchema.Column? index)
    {
        if (index is not { } column)
            return () => cursor.Position;
        if (column.Type.RawType == typeof(int))
        {
            var getter = cursor.GetGetter<int>(column);
            return () => { int v = 0; getter(ref v); return v; };
        }
        var longGetter = cursor.GetGetter<long>(column);
        return () => { long v = 0; longGetter(ref v); return v; };
    }

    /// <summary>
    /// Loads a soft-label dataset (Parquet, or CSV when the path ends in ".csv") as a data view with
    /// <c>Index</c>, <c>Label</c> (a key; missing where unknown) and <c>TeacherLogits</c>, ready for FuseTeachers,
    /// Evaluate or distillation. Top-k files come back with every logit restored. A file that records every
    /// teacher's training rows also gives <c>TeacherInBag</c> (per teacher 1 where it trained on the row), which
    /// MultiTeacherDistillation reads for out-of-bag soft labels (DistillationOptions.OutOfBagTeachers).
    /// </summary>
    public static IDataView LoadSoftLabels(this DataOperationsCatalog catalog, string path,
        string teacherLogitsColumnName = TeacherColumns.Logits, string labelColumnName = "Label", string indexColumnName = "Index",
        string teacherInBagColumnName = TeacherColumns.InBag) =>
        SoftLabelDataView.Create(SoftLabelFile.Read(path), indexColumnName, labelColumnName, teacherLogitsColumnName, teacherInBagColumnName);

    /// <summary>
    /// The data a soft-label file was scored on, with the file's <c>TeacherLogits</c> (and <c>TeacherInBag</c> when it
    /// records the teachers' training rows) joined back by index, so the data can be scored once and distilled later:
    /// <c>mlContext.Data.JoinSoftLabels(images, "soft.parquet")</c> feeds MultiTeacherDistillation or FuseTeachers.
    /// Rows match by their position in <paramref name="data"/> (what SaveAsSoftLabels writes by default), or by
    /// <paramref name="indexColumnName"/> when the file was saved with <c>SoftLabelSaveOptions.IndexColumnName</c>.
    /// A row the file does not hold is named when a cursor reaches it.
    /// </summary>
    public static IDataView JoinSoftLabels(this DataOperationsCatalog catalog, IDataView data, string path, string? indexColumnName = null,
        string teacherLogitsColumnName = TeacherColumns.Logits, string teacherInBagColumnName = TeacherColumns.InBag) =>
        new SoftLabelJoinDataView(data, SoftLabelFile.Read(path), path, indexColumnName, teacherLogitsColumnName, teacherInBagColumnName);
}
