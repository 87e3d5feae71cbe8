using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet.SoftLabels;
using Mtkd.Training.Data;

namespace Mtkd.MLNet.Data;

/// <summary>Turns an in-memory <see cref="ImageDataset"/> into an ML.NET data view.</summary>
public static class ImageDatasetDataView
{
    /// <summary>
    /// Columns <c>Features</c> (C×H×W floats, NCHW) and <c>Label</c>: a key whose values are the class names in
    /// class order, so key k+1 is class k. Rows are read straight from the dataset's arrays, without copies per row
    /// beyond the getter's.
    /// </summary>
    public static IDataView ToDataView(this ImageDataset data, MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return new View(data);
    }

    private sealed class View : IDataView
    {
        private readonly ImageDataset data;

        public View(ImageDataset data)
        {
            this.data = data;
            var builder = new DataViewSchema.Builder();
            builder.AddColumn("Features", new VectorDataViewType(NumberDataViewType.Single, data.ImageSize));
            var keyValues = new DataViewSchema.Annotations.Builder();
            SoftLabelDataView.AddText(keyValues, "KeyValues", data.ClassNames);
            builder.AddColumn("Label", new KeyDataViewType(typeof(uint), data.ClassCount), keyValues.ToAnnotations());
            Schema = builder.ToSchema();
        }

        public DataViewSchema Schema { get; }
        public bool CanShuffle => false;
        public long? GetRowCount() => data.Count;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(this)];

        private sealed class Cursor(View parent) : DataViewRowCursor
        {
            private long position = -1;
            private bool done;

            public override DataViewSchema Schema => parent.Schema;
            public override long Position => position;
            public override long Batch => 0;

            public override bool MoveNext()
            {
                if (done) return false;
                if (++position < parent.data.Count) return true;
                position = -1;
                done = true;
                return false;
            }

            public override ValueGetter<DataViewRowId> GetIdGetter() =>
                (ref DataViewRowId id) => id = new DataViewRowId((ulong)position, 0);

            public override bool IsColumnActive(DataViewSchema.Column column) => true;

            public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
            {
                var data = parent.data;
                Delegate getter = column.Index == 0
                    ? (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
                    {
                        var editor = VBufferEditor.Create(ref value, data.ImageSize);
                        data.Pixels.AsSpan((int)position * data.ImageSize, data.ImageSize).CopyTo(editor.Values);
                        value = editor.Commit();
                    })
                    : (ValueGetter<uint>)((ref uint value) => value = (uint)data.Labels[position] + 1);
                return getter as ValueGetter<TValue>
                    ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}; it cannot be read as {typeof(TValue).Name}.");
            }
        }
    }
}
