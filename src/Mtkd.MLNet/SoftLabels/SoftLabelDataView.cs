using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.Training.SoftLabels;

namespace Mtkd.MLNet.SoftLabels;

/// <summary>
/// A loaded soft-label dataset as a data view: <c>Index</c> (Int64, the row's position in the scored data),
/// <c>Label</c> (a key over the classes, missing where unknown) and <c>TeacherLogits</c> (teachers × classes).
/// </summary>
internal sealed class SoftLabelDataView : IDataView
{
    private readonly SoftLabelSet set;

    public SoftLabelDataView(SoftLabelSet set, string indexColumnName, string labelColumnName, string logitsColumnName)
    {
        this.set = set;
        var header = set.Header;
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(indexColumnName, NumberDataViewType.Int64);

        var labelAnnotations = new DataViewSchema.Annotations.Builder();
        if (header.ClassNames is { } classNames)
            AddText(labelAnnotations, "KeyValues", classNames);
        builder.AddColumn(labelColumnName, new KeyDataViewType(typeof(uint), header.ClassCount), labelAnnotations.ToAnnotations());

        var logitAnnotations = new DataViewSchema.Annotations.Builder();
        AddText(logitAnnotations, "SlotNames",
            Enumerable.Range(0, header.Width).Select(i => SoftLabelHeader.LogitName(i / header.ClassCount, i % header.ClassCount)).ToArray());
        AddText(logitAnnotations, SoftLabelColumns.TeacherNamesKind, header.TeacherNames.ToArray());
        builder.AddColumn(logitsColumnName, new VectorDataViewType(NumberDataViewType.Single, header.Width), logitAnnotations.ToAnnotations());
        Schema = builder.ToSchema();
    }

    internal static void AddText(DataViewSchema.Annotations.Builder builder, string kind, IReadOnlyList<string> values)
    {
        var memory = values.Select(v => v.AsMemory()).ToArray();
        builder.Add(kind, new VectorDataViewType(TextDataViewType.Instance, values.Count),
            (ref VBuffer<ReadOnlyMemory<char>> value) => value = new VBuffer<ReadOnlyMemory<char>>(memory.Length, memory));
    }

    public DataViewSchema Schema { get; }
    public bool CanShuffle => false;
    public long? GetRowCount() => set.RowCount;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(this)];

    private sealed class Cursor(SoftLabelDataView parent) : DataViewRowCursor
    {
        private long position = -1;
        private bool done;

        public override DataViewSchema Schema => parent.Schema;
        public override long Position => position;
        public override long Batch => 0;

        public override bool MoveNext()
        {
            if (done) return false;
            if (++position < parent.set.RowCount) return true;
            position = -1;
            done = true;
            return false;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            (ref DataViewRowId id) => id = new DataViewRowId((ulong)position, 0);

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            var set = parent.set;
            Delegate getter = column.Index switch
            {
                0 => (ValueGetter<long>)((ref long value) => value = set.RowIds[position]),
                1 => (ValueGetter<uint>)((ref uint value) => value = (uint)(set.Labels[position] + 1)), // −1 (unknown) → key 0, missing
                _ => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
                {
                    var editor = VBufferEditor.Create(ref value, set.Header.Width);
                    set.Row((int)position).CopyTo(editor.Values);
                    value = editor.Commit();
                }),
            };
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }
    }
}
