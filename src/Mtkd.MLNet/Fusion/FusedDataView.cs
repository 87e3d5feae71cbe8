using Microsoft.ML;
using Microsoft.ML.Data;

namespace Mtkd.MLNet.Fusion;

/// <summary>The input rows plus Score and PredictedLabel, fused once per row when either is first read.</summary>
internal sealed class FusedDataView : IDataView
{
    private readonly IDataView source;
    private readonly TeacherFusionTransformer fusion;

    public FusedDataView(IDataView source, TeacherFusionTransformer fusion, DataViewSchema schema)
    {
        this.source = source;
        this.fusion = fusion;
        Schema = schema;
    }

    public DataViewSchema Schema { get; }
    public bool CanShuffle => source.CanShuffle;
    public long? GetRowCount() => source.GetRowCount();

    private int ScoreIndex => Schema.Count - 2;
    private int PredictedIndex => Schema.Count - 1;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.Select(c => c.Index).ToHashSet();
        bool fusing = needed.Contains(ScoreIndex) || needed.Contains(PredictedIndex);
        var sourceColumns = needed.Where(i => i < ScoreIndex).Select(i => source.Schema[Schema[i].Name]).ToList();
        if (fusing)
            sourceColumns.Add(source.Schema[fusion.TeacherLogitsColumnName]);
        return new Cursor(this, source.GetRowCursor(sourceColumns.Distinct(), rand), fusing);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly FusedDataView parent;
        private readonly DataViewRowCursor input;
        private readonly ValueGetter<VBuffer<float>>? logitGetter;
        private readonly Training.Fusion.EnsembleFusion? fusion;
        private readonly float[] score;
        private VBuffer<float> logits;
        private uint predicted;
        private long fusedPosition = -1;

        public Cursor(FusedDataView parent, DataViewRowCursor input, bool fusing)
        {
            this.parent = parent;
            this.input = input;
            score = new float[parent.fusion.ClassCount];
            if (fusing)
            {
                logitGetter = input.GetGetter<VBuffer<float>>(input.Schema[parent.fusion.TeacherLogitsColumnName]);
                fusion = parent.fusion.CreateFusion();
            }
        }

        public override DataViewSchema Schema => parent.Schema;
        public override long Position => input.Position;
        public override long Batch => input.Batch;
        public override bool MoveNext() => input.MoveNext();
        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index >= parent.ScoreIndex ? fusion is not null : input.IsColumnActive(input.Schema[column.Name]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < parent.ScoreIndex)
                return input.GetGetter<TValue>(input.Schema[column.Name]);
            if (fusion is null)
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was created.");
            Delegate getter = column.Index == parent.ScoreIndex
                ? (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
                {
                    FuseCurrentRow();
                    var editor = VBufferEditor.Create(ref value, score.Length);
                    score.CopyTo(editor.Values);
                    value = editor.Commit();
                })
                : (ValueGetter<uint>)((ref uint value) =>
                {
                    FuseCurrentRow();
                    value = predicted;
                });
            return (ValueGetter<TValue>)getter;
        }

        private void FuseCurrentRow()
        {
            if (fusedPosition == input.Position) return;
            logitGetter!(ref logits);
            var dense = logits.IsDense ? logits.GetValues() : logits.DenseValues().ToArray();
            predicted = (uint)fusion!.Fuse(dense, score) + 1; // keys count from 1
            fusedPosition = input.Position;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) input.Dispose();
            base.Dispose(disposing);
        }
    }
}
