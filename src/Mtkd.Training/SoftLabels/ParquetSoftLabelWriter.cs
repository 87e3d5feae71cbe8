using Parquet;
using Parquet.Schema;

namespace Mtkd.Training.SoftLabels;

/// <summary>Parquet, one row group per <see cref="RowGroupSize"/> rows, so memory stays bounded however many rows come.</summary>
internal sealed class ParquetSoftLabelWriter : SoftLabelWriter
{
    public const int RowGroupSize = 16384;

    private readonly int topK;
    private readonly ParquetWriter writer;
    private readonly DataField[] fields;
    private readonly long[] ids = new long[RowGroupSize];
    private readonly int?[] labels = new int?[RowGroupSize];
    private readonly float[][] logitColumns;   // full: one per stored logit; top-k: per teacher k logits then the floor
    private readonly int[][] classColumns;     // top-k only: per teacher k class columns
    private readonly int[] topClasses;
    private readonly float[] topValues;
    private readonly float[] stored;          // full: a row as stored (two classes: one logit per teacher)
    private int buffered;

    public ParquetSoftLabelWriter(string path, SoftLabelHeader header, int topK) : base(path, header)
    {
        this.topK = topK;
        var schema = SoftLabelParquetSchema.Build(header, topK);
        fields = schema.GetDataFields();
        writer = ParquetWriter.CreateAsync(schema, Stream, new ParquetOptions { CompressionMethod = CompressionMethod.Snappy }).GetAwaiter().GetResult();
        writer.CustomMetadata = SoftLabelParquetSchema.Metadata(header, topK);
        stored = new float[header.OneLogitPerTeacher ? header.TeacherCount : header.Width];
        int logitColumnCount = topK == 0 ? stored.Length : header.TeacherCount * (topK + 1);
        logitColumns = Enumerable.Range(0, logitColumnCount).Select(_ => new float[RowGroupSize]).ToArray();
        classColumns = Enumerable.Range(0, header.TeacherCount * topK).Select(_ => new int[RowGroupSize]).ToArray();
        topClasses = new int[topK];
        topValues = new float[topK];
    }

    private protected override void AppendRow(long rowId, int label, ReadOnlySpan<float> logits)
    {
        ids[buffered] = rowId;
        labels[buffered] = label >= 0 ? label : null;
        if (topK == 0)
        {
            SoftLabelHeader.ToStored(logits, stored, Header.OneLogitPerTeacher);
            for (int i = 0; i < stored.Length; i++) logitColumns[i][buffered] = stored[i];
        }
        else
        {
            int classes = Header.ClassCount;
            for (int t = 0; t < Header.TeacherCount; t++)
            {
                float floor = TopKLogits.Compress(logits.Slice(t * classes, classes), topClasses, topValues);
                for (int j = 0; j < topK; j++)
                {
                    classColumns[t * topK + j][buffered] = topClasses[j];
                    logitColumns[t * (topK + 1) + j][buffered] = topValues[j];
                }
                logitColumns[t * (topK + 1) + topK][buffered] = floor;
            }
        }
        if (++buffered == RowGroupSize)
            FlushRowGroup();
    }

    // Columns go in schema order: index, label, then per teacher either its logits or its (class, logit) pairs and floor.
    private void FlushRowGroup()
    {
        if (buffered == 0) return;
        using var group = writer.CreateRowGroup();
        int n = buffered;
        group.WriteAsync(fields[0], Rows(ids, n)).GetAwaiter().GetResult();
        group.WriteAsync(fields[1], Rows(labels, n)).GetAwaiter().GetResult();
        int field = 2, logitColumn = 0, classColumn = 0;
        if (topK == 0)
            for (; logitColumn < stored.Length; logitColumn++)
                group.WriteAsync(fields[field++], Rows(logitColumns[logitColumn], n)).GetAwaiter().GetResult();
        for (int t = 0; t < Header.TeacherCount && topK > 0; t++)
        {
            for (int j = 0; j < topK; j++)
            {
                group.WriteAsync(fields[field++], Rows(classColumns[classColumn++], n)).GetAwaiter().GetResult();
                group.WriteAsync(fields[field++], Rows(logitColumns[logitColumn++], n)).GetAwaiter().GetResult();
            }
            group.WriteAsync(fields[field++], Rows(logitColumns[logitColumn++], n)).GetAwaiter().GetResult();
        }
        buffered = 0;
    }

    private static ReadOnlyMemory<T> Rows<T>(T[] column, int n) => new(column, 0, n);

    private protected override void Finish()
    {
        FlushRowGroup();
        writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
