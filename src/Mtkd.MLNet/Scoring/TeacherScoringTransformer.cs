using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet.Internal;
using Mtkd.MLNet.SoftLabels;
using Mtkd.Training.Onnx;
using Mtkd.Training.Teachers;

namespace Mtkd.MLNet.Scoring;

/// <summary>
/// The fitted teacher scorer: lazily adds the teacher-logits column, scoring rows in batches as a cursor reaches them.
/// Row by row (a <c>PredictionEngine</c>) and in a saved zip it is the teachers merged into one ONNX model
/// (<see cref="OnnxEnsemble"/>) under ML.NET's own ONNX transformer, which gives the same column; the zip loads without Mtkd.
/// </summary>
public sealed class TeacherScoringTransformer : ITransformer, IDisposable
{
    private readonly Lazy<ITransformer> stock;

    internal TeacherScoringTransformer(OnnxTeachers teachers, string inputColumnName, string outputColumnName, int batchSize,
        Func<bool> isCanceled, StockSource source)
    {
        IsCanceled = isCanceled;
        Teachers = teachers;
        InputColumnName = inputColumnName;
        OutputColumnName = outputColumnName;
        BatchSize = batchSize;
        stock = new(() => StockTransformers.ApplyOnnx(source.Environment, OnnxEnsemble.Merge(source.Models, new OnnxEnsembleOptions
        {
            Fusion = null, InputName = InputColumnName, TeacherLogitsName = OutputColumnName,
        }), OutputColumnName, InputColumnName, source.InputSchema, source.GpuDeviceId, source.FallbackToCpu, "The teachers").Transformer);
    }

    /// <summary>What the stock twin is made from: the environment, the teacher models as given, the schema fitted on, the device.</summary>
    internal sealed record StockSource(Microsoft.ML.Runtime.IHostEnvironment Environment, IReadOnlyList<TeacherModel> Models, DataViewSchema InputSchema,
        int? GpuDeviceId, bool FallbackToCpu);

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

    public bool IsRowToRowMapper => true;

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

    // Row by row, the merged model: the same logits, one image at a time.
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => stock.Value.GetRowToRowMapper(inputSchema);

    // The zip holds the stock twin; loading it needs only Microsoft.ML and Microsoft.ML.OnnxTransformer.
    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)stock.Value).Save(ctx);

    public void Dispose() => Teachers.Dispose();
}
