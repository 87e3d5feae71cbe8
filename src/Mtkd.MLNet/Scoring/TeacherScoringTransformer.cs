using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet.Internal;
using Mtkd.MLNet.SoftLabels;
using Mtkd.Training.Teachers;

namespace Mtkd.MLNet.Scoring;

/// <summary>The fitted teacher scorer: lazily adds the teacher-logits column, scoring rows in batches as a cursor reaches them.</summary>
public sealed class TeacherScoringTransformer : ITransformer, IDisposable
{
    internal TeacherScoringTransformer(OnnxTeachers teachers, string inputColumnName, string outputColumnName, int batchSize,
        Func<bool>? isCanceled = null)
    {
        IsCanceled = isCanceled ?? (() => false);
        Teachers = teachers;
        InputColumnName = inputColumnName;
        OutputColumnName = outputColumnName;
        BatchSize = batchSize;
    }

    /// <summary>Each teacher model as it runs: detected layout and output kind, class count, execution provider, a specialist's classes.</summary>
    public IReadOnlyList<TeacherDescription> TeacherDescriptions => Teachers.Descriptions;

    /// <summary>The engine's teachers this scorer runs.</summary>
    internal OnnxTeachers Teachers { get; }

    /// <summary>Whether <c>mlContext.CancelExecution()</c> was called: scoring stops before the next batch.</summary>
    internal Func<bool> IsCanceled { get; }
    public string InputColumnName { get; }
    public string OutputColumnName { get; }
    public int BatchSize { get; }
    public int TeacherCount => Teachers.TeacherCount;
    public int ClassCount => Teachers.ClassCount;

    public bool IsRowToRowMapper => false;

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        var input = inputSchema.GetColumnOrNull(InputColumnName)
            ?? throw new ArgumentException($"Input column '{InputColumnName}' not found.", nameof(inputSchema));
        int size = Teachers.InputSize;
        var first = Teachers.Descriptions[0];
        if (input.Type is not VectorDataViewType { ItemType: NumberDataViewType { RawType: var raw }, Size: var n } || raw != typeof(float) || n != size)
            throw new ArgumentException($"Teacher '{first.Name}' takes images of {string.Join("×", first.ImageShape)} ({size} values); " +
                $"column '{InputColumnName}' holds {input.Type}. Give the data at the teachers' size (the CLI's --image-size and --channels for image folders).", nameof(inputSchema));

        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        var annotations = new DataViewSchema.Annotations.Builder();
        int width = TeacherCount * ClassCount;
        annotations.Add("SlotNames", new VectorDataViewType(TextDataViewType.Instance, width), (ref VBuffer<ReadOnlyMemory<char>> names) =>
        {
            var values = new ReadOnlyMemory<char>[width];
            for (int i = 0; i < width; i++)
                values[i] = $"t{i / ClassCount}_c{i % ClassCount}".AsMemory();
            names = new VBuffer<ReadOnlyMemory<char>>(width, values);
        });
        ArrayDataView.AddText(annotations, SoftLabelColumns.TeacherNamesKind, Teachers.TeacherNames.ToArray());
        builder.AddColumn(OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, width), annotations.ToAnnotations());
        return builder.ToSchema();
    }

    public IDataView Transform(IDataView input) => new TeacherScoredDataView(input, this, GetOutputSchema(input.Schema));

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        throw new NotSupportedException("Teacher scoring batches rows, so it has no row-to-row mapper; use Transform on an IDataView.");

    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException(
            "Teacher scoring is a data-preparation step and is not saved into model zips; save the soft labels it produces, or save the distilled student.");

    public void Dispose() => Teachers.Dispose();
}
