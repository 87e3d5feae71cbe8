using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Mtkd.Training.Teachers;

namespace Mtkd.MLNet.Internal;

/// <summary>
/// Stock ML.NET transformers standing in for Mtkd's: what a zip holds and what a row-by-row prediction runs, so that
/// an app with only Microsoft.ML and Microsoft.ML.OnnxTransformer loads it.
/// </summary>
internal static class StockTransformers
{
    /// <summary>
    /// ML.NET's ONNX transformer over <paramref name="model"/> (its input and output named after the columns), fitted
    /// without reading data, and where it runs ("CPU", "CUDA device N", or the CPU with the reason a GPU request fell back).
    /// </summary>
    public static (ITransformer Transformer, string ExecutionProvider) ApplyOnnx(IHostEnvironment env, byte[] model, string outputColumn, string inputColumn,
        DataViewSchema inputSchema, int? gpuDeviceId, bool fallbackToCpu, string what)
    {
        // ApplyOnnxModel hangs off a TransformsCatalog; the catalog's environment is the user's MLContext in every
        // ordinary use, and any other host environment gets a private context for this stage alone.
        var mlContext = env as MLContext ?? new MLContext();
        var (device, provider) = CudaProvider.Resolve(gpuDeviceId, fallbackToCpu, what);
        return (mlContext.Transforms.ApplyOnnxModel([outputColumn], [inputColumn], new MemoryStream(model), device, fallbackToCpu)
            .Fit(new EmptyDataView(inputSchema)), provider);
    }

    /// <summary>
    /// A schema of one logits column (of <paramref name="logitsType"/>: as the ONNX transformer before the head gives it) and a key label of
    /// <paramref name="classCount"/> values (named when <paramref name="classNames"/> are given), to fit a prediction head on.
    /// </summary>
    public static DataViewSchema LogitsAndLabel(string logitsColumn, DataViewType logitsType, string labelColumn, int classCount, IReadOnlyList<string>? classNames)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(logitsColumn, logitsType);
        var annotations = new DataViewSchema.Annotations.Builder();
        if (classNames is not null) ArrayDataView.AddText(annotations, "KeyValues", classNames);
        builder.AddColumn(labelColumn, new KeyDataViewType(typeof(uint), classCount), annotations.ToAnnotations());
        return builder.ToSchema();
    }
}

/// <summary>A row-less view with a given schema, to fit trivial estimators without touching data.</summary>
internal sealed class EmptyDataView(DataViewSchema schema) : IDataView
{
    public DataViewSchema Schema { get; } = schema;
    public bool CanShuffle => false;
    public long? GetRowCount() => 0;
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        throw new NotSupportedException("An empty schema view has no rows.");
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        throw new NotSupportedException("An empty schema view has no rows.");
}
