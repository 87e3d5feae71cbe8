using Microsoft.ML;
using Microsoft.ML.Data;

namespace Mtkd.MLNet.Scoring;

/// <summary>
/// The source data plus the teacher-logits column. Each cursor walks the source twice in step: a lead cursor reads
/// the features of the next block of rows and scores the whole block at once, while the follow cursor serves the
/// other columns row by row. Nothing beyond one block is held in memory.
/// </summary>
internal sealed class TeacherScoredDataView : IDataView
{
    private readonly IDataView source;
    private readonly TeacherScoringTransformer scorer;

    public TeacherScoredDataView(IDataView source, TeacherScoringTransformer scorer, DataViewSchema schema)
    {
        this.source = source;
        this.scorer = scorer;
        Schema = schema;
    }

    public DataViewSchema Schema { get; }
    public bool CanShuffle => false;
    private int OutputIndex => Schema.Count - 1;

    public long? GetRowCount() => source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.Select(c => c.Index).ToHashSet();
        bool scoring = needed.Contains(OutputIndex);
        var follow = source.GetRowCursor(source.Schema.Where(c => needed.Contains(c.Index)));
        var lead = scoring ? source.GetRowCursor([source.Schema[scorer.InputColumnName]]) : null;
        return new Cursor(this, follow, lead);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly TeacherScoredDataView parent;
        private readonly DataViewRowCursor follow;
        private readonly DataViewRowCursor? lead;
        private readonly ValueGetter<VBuffer<float>>? features;
        private readonly float[] images;
        private readonly float[] logits;
        private readonly int width;
        private long blockStart;
        private int blockCount;

        public Cursor(TeacherScoredDataView parent, DataViewRowCursor follow, DataViewRowCursor? lead)
        {
            this.parent = parent;
            this.follow = follow;
            this.lead = lead;
            var scorer = parent.scorer;
            width = scorer.TeacherCount * scorer.ClassCount;
            if (lead is not null)
                features = lead.GetGetter<VBuffer<float>>(lead.Schema[scorer.InputColumnName]);
            images = lead is null ? [] : new float[scorer.BatchSize * scorer.Teachers.InputSize];
            logits = lead is null ? [] : new float[scorer.BatchSize * width];
        }

        public override DataViewSchema Schema => parent.Schema;
        public override long Position => follow.Position;
        public override long Batch => 0;

        public override ValueGetter<DataViewRowId> GetIdGetter() => follow.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) =>
            column.Index == parent.OutputIndex ? lead is not null : follow.IsColumnActive(follow.Schema[column.Index]);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index != parent.OutputIndex)
                return follow.GetGetter<TValue>(follow.Schema[column.Index]);
            if (lead is null)
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when this cursor was created.");
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
            {
                int row = (int)(Position - blockStart);
                var editor = VBufferEditor.Create(ref value, width);
                logits.AsSpan(row * width, width).CopyTo(editor.Values);
                value = editor.Commit();
            };
            return (ValueGetter<TValue>)(Delegate)getter;
        }

        public override bool MoveNext()
        {
            if (!follow.MoveNext())
                return false;
            if (lead is not null && follow.Position >= blockStart + blockCount)
                ScoreNextBlock();
            return true;
        }

        private void ScoreNextBlock()
        {
            var scorer = parent.scorer;
            if (scorer.IsCanceled())
                throw new OperationCanceledException($"Teacher scoring was cancelled (MLContext.CancelExecution) before row {follow.Position}.");
            int size = scorer.Teachers.InputSize;
            VBuffer<float> row = default;
            blockStart = follow.Position;
            blockCount = 0;
            long leadPosition = -1;
            while (blockCount < scorer.BatchSize && lead!.MoveNext())
            {
                leadPosition = lead.Position;
                features!(ref row);
                if (row.Length != size)
                    throw new InvalidDataException($"Row {lead.Position}: column '{scorer.InputColumnName}' has {row.Length} values; the teachers expect {size}.");
                row.CopyTo(images.AsSpan(blockCount * size, size));
                blockCount++;
            }
            if (blockCount == 0 || leadPosition != blockStart + blockCount - 1)
                throw new InvalidOperationException("The source data returned different rows to two cursors; teacher scoring needs a deterministic row order.");
            scorer.Teachers.Score(images, blockCount, logits, firstRow: blockStart);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                follow.Dispose();
                lead?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
