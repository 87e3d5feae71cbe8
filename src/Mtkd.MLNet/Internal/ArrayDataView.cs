using Microsoft.ML;
using Microsoft.ML.Data;

namespace Mtkd.MLNet.Internal;

/// <summary>
/// A data view over data already in arrays: each column is a schema entry plus a factory that, given the cursor's
/// current row, makes the column's getter. Getters read the arrays directly, with no objects per row.
/// </summary>
internal sealed class ArrayDataView : IDataView
{
    private readonly long rowCount;
    private readonly IReadOnlyList<Func<Func<long>, Delegate>> getterFactories;

    /// <param name="schema">The columns, in the order of <paramref name="getterFactories"/>.</param>
    /// <param name="rowCount">Rows in the arrays.</param>
    /// <param name="getterFactories">Per column: from a function giving the current row, a <c>ValueGetter</c> of the column's type.</param>
    public ArrayDataView(DataViewSchema schema, long rowCount, IReadOnlyList<Func<Func<long>, Delegate>> getterFactories)
    {
        if (schema.Count != getterFactories.Count)
            throw new ArgumentException($"{schema.Count} columns but {getterFactories.Count} getters.");
        Schema = schema;
        this.rowCount = rowCount;
        this.getterFactories = getterFactories;
    }

    public DataViewSchema Schema { get; }
    public bool CanShuffle => false;
    public long? GetRowCount() => rowCount;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(this)];

    private sealed class Cursor(ArrayDataView parent) : DataViewRowCursor
    {
        private long position = -1;
        private bool done;

        public override DataViewSchema Schema => parent.Schema;
        public override long Position => position;
        public override long Batch => 0;

        public override bool MoveNext()
        {
            if (done) return false;
            if (++position < parent.rowCount) return true;
            position = -1;
            done = true;
            return false;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            (ref DataViewRowId id) => id = new DataViewRowId((ulong)position, 0);

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            parent.getterFactories[column.Index](() => position) as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}; it cannot be read as {typeof(TValue).Name}.");
    }

    /// <summary>A getter factory for a vector column whose row r is <c>values[r × width .. (r+1) × width)</c>.</summary>
    public static Func<Func<long>, Delegate> Vectors(float[] values, int width) => row => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
    {
        var editor = VBufferEditor.Create(ref value, width);
        values.AsSpan(checked((int)(row() * width)), width).CopyTo(editor.Values);
        value = editor.Commit();
    });

    /// <summary>A getter factory for a vector column of a dataset's images, read from its store a row at a time.</summary>
    public static Func<Func<long>, Delegate> Images(Mtkd.Training.Data.ImageDataset data) => row => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
    {
        var editor = VBufferEditor.Create(ref value, data.ImageSize);
        data.ReadImages(checked((int)row()), 1, editor.Values);
        value = editor.Commit();
    });

    /// <summary>A getter factory for a key column from 0-based class indices (−1, unknown, becomes the missing key 0).</summary>
    public static Func<Func<long>, Delegate> Keys(int[] classIndices) =>
        row => (ValueGetter<uint>)((ref uint value) => value = (uint)(classIndices[row()] + 1));

    /// <summary>Adds a text-vector annotation (slot names, key values, teacher names).</summary>
    public static void AddText(DataViewSchema.Annotations.Builder builder, string kind, IReadOnlyList<string> values)
    {
        var memory = values.Select(v => v.AsMemory()).ToArray();
        builder.Add(kind, new VectorDataViewType(TextDataViewType.Instance, values.Count),
            (ref VBuffer<ReadOnlyMemory<char>> value) => value = new VBuffer<ReadOnlyMemory<char>>(memory.Length, memory));
    }
}
