using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.Training.SoftLabels;

namespace Mtkd.MLNet.SoftLabels;

/// <summary>
/// The data soft labels were scored on with the file's teacher columns joined back by index: each row's position
/// in the data (what SaveAsSoftLabels writes by default) or the value of the data's own index column. Lazy: the
/// data is read as a cursor asks for it; a row the file does not hold is named when it is reached.
/// </summary>
internal sealed class SoftLabelJoinDataView : IDataView
{
    private readonly IDataView data;
    private readonly SoftLabelSet set;
    private readonly string path;
    private readonly DataViewSchema.Column? index;
    private readonly Dictionary<long, int> rowOf;
    private readonly float[]? inBag;

    public SoftLabelJoinDataView(IDataView data, SoftLabelSet set, string path, string? indexColumnName, string logitsColumnName, string inBagColumnName)
    {
        foreach (var name in new[] { logitsColumnName, inBagColumnName })
            if (data.Schema.GetColumnOrNull(name) is not null && (name == logitsColumnName || set.Header.KnowsTrainingRows))
                throw new ArgumentException($"The data already has a column '{name}'; drop it, or name the joined column otherwise.");
        if (indexColumnName is not null)
        {
            index = data.Schema.GetColumnOrNull(indexColumnName) ?? throw new ArgumentException($"Index column '{indexColumnName}' not found in the data.");
            if (index.Value.Type != NumberDataViewType.Int64 && index.Value.Type != NumberDataViewType.Int32)
                throw new ArgumentException($"Index column '{indexColumnName}' is {index.Value.Type}; expected Int32 or Int64, as it was when the soft labels were saved.");
        }
        this.data = data;
        this.set = set;
        this.path = path;
        rowOf = new Dictionary<long, int>(set.RowCount);
        for (int r = 0; r < set.RowCount; r++) rowOf[set.RowIds[r]] = r; // ids are unique: SoftLabelFile.Read refuses repeats
        inBag = SoftLabelDataView.InBag(set);
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(data.Schema);
        SoftLabelDataView.AddTeacherColumns(builder, set.Header, logitsColumnName, inBagColumnName);
        Schema = builder.ToSchema();
    }

    public DataViewSchema Schema { get; }
    public bool CanShuffle => false;
    public long? GetRowCount() => data.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        int own = data.Schema.Count;
        var needed = columnsNeeded.Where(c => c.Index < own).Select(c => data.Schema[c.Index]).ToList();
        if (index is { } i && needed.All(c => c.Index != i.Index)) needed.Add(i);
        return new Cursor(this, data.GetRowCursor(needed));
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly SoftLabelJoinDataView parent;
        private readonly DataViewRowCursor inner;
        private readonly Func<long> idOf;

        public Cursor(SoftLabelJoinDataView parent, DataViewRowCursor inner)
        {
            this.parent = parent;
            this.inner = inner;
            idOf = SoftLabelDataOperations.IdGetter(inner, parent.index is { } column ? inner.Schema[column.Index] : null);
        }

        public override DataViewSchema Schema => parent.Schema;
        public override long Position => inner.Position;
        public override long Batch => inner.Batch;
        public override bool MoveNext() => inner.MoveNext();
        public override ValueGetter<DataViewRowId> GetIdGetter() => inner.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index >= parent.data.Schema.Count || inner.IsColumnActive(parent.data.Schema[column.Index]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int own = parent.data.Schema.Count;
            if (column.Index < own)
                return inner.GetGetter<TValue>(parent.data.Schema[column.Index]);
            var header = parent.set.Header;
            var (values, width) = column.Index == own ? (parent.set.Logits, header.Width) : (parent.inBag!, header.TeacherCount);
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
            {
                long id = idOf();
                if (!parent.rowOf.TryGetValue(id, out int row))
                    throw new InvalidDataException($"{parent.path} holds no soft labels for index {id} (row {inner.Position} of the data); " +
                        "join the data the file was scored on, in the same order, or give the index column it was saved with.");
                var editor = VBufferEditor.Create(ref value, width);
                values.AsSpan(row * width, width).CopyTo(editor.Values);
                value = editor.Commit();
            };
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
