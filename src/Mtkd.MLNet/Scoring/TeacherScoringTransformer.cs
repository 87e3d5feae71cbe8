using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet.Internal;
using Mtkd.MLNet.SoftLabels;
using Mtkd.Training.Onnx;

namespace Mtkd.MLNet.Scoring;

/// <summary>The fitted teacher scorer: lazily adds the teacher-logits column, scoring rows in batches as a cursor reaches them.</summary>
public sealed class TeacherScoringTransformer : ITransformer, IDisposable
{
    internal TeacherScoringTransformer(IReadOnlyList<OnnxTeacher> teachers, string inputColumnName, string outputColumnName, int batchSize,
        Func<bool>? isCanceled = null)
    {
        IsCanceled = isCanceled ?? (() => false);
        Teachers = teachers;
        InputColumnName = inputColumnName;
        OutputColumnName = outputColumnName;
        BatchSize = batchSize;
        ClassCount = teachers[0].ClassCount;
        var first = teachers[0].Description;
        foreach (var t in teachers)
        {
            if (t.ClassCount != ClassCount)
                throw new InvalidDataException($"Teacher '{t.Name}' has {t.ClassCount} classes; expected {ClassCount} like '{first.Name}'.");
            if (t.InputSize != first.InputSize)
                throw new InvalidDataException($"Teacher '{t.Name}' takes {t.InputSize} input values; expected {first.InputSize} like '{first.Name}'.");
            if (ImageChw(t.Description) is { } chw && ImageChw(first) is { } firstChw && chw != firstChw)
                throw new InvalidDataException($"Teacher '{t.Name}' takes {chw} images (C×H×W); expected {firstChw} like '{first.Name}'.");
        }
        TeacherDescriptions = teachers.Select(t => t.Description).ToArray();
    }

    private static string? ImageChw(TeacherDescription t) => t.InputLayout switch
    {
        ImageLayout.Nchw => $"{t.ImageShape[0]}×{t.ImageShape[1]}×{t.ImageShape[2]}",
        ImageLayout.Nhwc => $"{t.ImageShape[2]}×{t.ImageShape[0]}×{t.ImageShape[1]}",
        _ => null,
    };

    /// <summary>Each teacher as it runs: detected layout and output kind, class count, execution provider.</summary>
    public IReadOnlyList<TeacherDescription> TeacherDescriptions { get; }

    internal IReadOnlyList<OnnxTeacher> Teachers { get; }

    /// <summary>Whether <c>mlContext.CancelExecution()</c> was called: scoring stops before the next batch.</summary>
    internal Func<bool> IsCanceled { get; }
    public string InputColumnName { get; }
    public string OutputColumnName { get; }
    public int BatchSize { get; }
    public int TeacherCount => Teachers.Count;
    public int ClassCount { get; }

    public bool IsRowToRowMapper => false;

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        var input = inputSchema.GetColumnOrNull(InputColumnName)
            ?? throw new ArgumentException($"Input column '{InputColumnName}' not found.", nameof(inputSchema));
        int size = Teachers[0].InputSize;
        if (input.Type is not VectorDataViewType { ItemType: NumberDataViewType { RawType: var raw }, Size: var n } || raw != typeof(float) || n != size)
            throw new ArgumentException($"Teacher '{Teachers[0].Name}' takes images of {string.Join("×", Teachers[0].Description.ImageShape)} ({size} values); " +
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
        ArrayDataView.AddText(annotations, SoftLabelColumns.TeacherNamesKind, TeacherDescriptions.Select(t => t.Name).ToArray());
        builder.AddColumn(OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, width), annotations.ToAnnotations());
        return builder.ToSchema();
    }

    public IDataView Transform(IDataView input) => new TeacherScoredDataView(input, this, GetOutputSchema(input.Schema));

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        throw new NotSupportedException("Teacher scoring batches rows, so it has no row-to-row mapper; use Transform on an IDataView.");

    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException(
            "Teacher scoring is a data-preparation step and is not saved into model zips; save the soft labels it produces, or save the distilled student.");

    public void Dispose()
    {
        foreach (var teacher in Teachers)
            teacher.Dispose();
    }
}
