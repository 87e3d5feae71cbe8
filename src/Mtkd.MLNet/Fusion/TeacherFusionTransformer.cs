using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet.Internal;
using Mtkd.MLNet.SoftLabels;
using Mtkd.Training.Fusion;
using Mtkd.Training.Onnx;

namespace Mtkd.MLNet.Fusion;

/// <summary>
/// The fitted ensemble: adds <c>Score</c> and <c>PredictedLabel</c> computed from the teacher logits of each row.
/// Row by row (a <c>PredictionEngine</c>) and in a saved zip it is the fusion written as an ONNX model
/// (<see cref="OnnxEnsemble.Fusion"/>) under ML.NET's ONNX transformer and a softmax prediction head: stock
/// transformers that give the same columns. Ranked votes have no such form and are refused there, by name.
/// </summary>
public sealed class TeacherFusionTransformer : ITransformer
{
    public const string ScoreColumnName = "Score";
    public const string PredictedLabelColumnName = "PredictedLabel";

    // The fused logits between the ONNX fusion and the prediction head of the stock twin.
    private const string EnsembleLogitsColumnName = "EnsembleLogits";

    private readonly Lazy<ITransformer> stock;

    internal TeacherFusionTransformer(FusionMethod method, int teacherCount, int classCount, double[]? weights, string[]? classNames, string teacherLogitsColumnName,
        Microsoft.ML.Runtime.IHostEnvironment env, DataViewSchema inputSchema)
    {
        Method = method;
        TeacherCount = teacherCount;
        ClassCount = classCount;
        Weights = weights;
        ClassNames = classNames;
        TeacherLogitsColumnName = teacherLogitsColumnName;
        _ = CreateFusion(); // validates the weights now rather than on the first row
        stock = new(() => CreateStock(env, inputSchema));
    }

    // ML.NET's ONNX transformer over the fusion (teacher logits → fused logits), then softmax: Score, and PredictedLabel keyed like the label.
    private TransformerChain<ITransformer> CreateStock(Microsoft.ML.Runtime.IHostEnvironment env, DataViewSchema inputSchema)
    {
        try
        {
            OnnxEnsemble.CheckWritable(Method);
        }
        catch (ArgumentException e)
        {
            throw new NotSupportedException(e.Message + " So it is not saved into model zips nor run row by row; Transform on an IDataView works.", e);
        }
        var model = OnnxEnsemble.Fusion(TeacherCount, ClassCount, new OnnxEnsembleOptions
        {
            Fusion = Method, Weights = Weights, TeacherLogitsName = TeacherLogitsColumnName, LogitsName = EnsembleLogitsColumnName,
        });
        var (onnx, _) = StockTransformers.ApplyOnnx(env, model, EnsembleLogitsColumnName, TeacherLogitsColumnName, inputSchema, null, true, "The fusion");
        var fused = onnx.GetOutputSchema(inputSchema)[EnsembleLogitsColumnName].Type;
        var head = MlNetInternals.CreateSoftmaxPredictionHead(env, ClassCount,
            StockTransformers.LogitsAndLabel(EnsembleLogitsColumnName, fused, "Label", ClassCount, ClassNames), EnsembleLogitsColumnName, "Label",
            ScoreColumnName, PredictedLabelColumnName);
        return new TransformerChain<ITransformer>(onnx, head);
    }

    public FusionMethod Method { get; }
    public int TeacherCount { get; }
    public int ClassCount { get; }

    /// <summary>The teacher weights of <see cref="FusionMethod.WeightedAverage"/>; null for the other methods.</summary>
    public IReadOnlyList<double>? Weights { get; }

    /// <summary>Class names, the label's key values, when the label had them.</summary>
    public IReadOnlyList<string>? ClassNames { get; }
    public string TeacherLogitsColumnName { get; }

    public bool IsRowToRowMapper => !EnsembleFusion.IsRankedVote(Method);

    internal EnsembleFusion CreateFusion() => new(Method, TeacherCount, ClassCount, Weights);

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema)
    {
        var logits = SoftLabelColumns.Logits(inputSchema, TeacherLogitsColumnName);
        if (((VectorDataViewType)logits.Type).Size != TeacherCount * ClassCount)
            throw new ArgumentException($"Column '{logits.Name}' is {logits.Type}; this ensemble was fitted on {TeacherCount} teachers × {ClassCount} classes.");
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema.Where(c => c.Name != ScoreColumnName && c.Name != PredictedLabelColumnName));
        var scoreAnnotations = new DataViewSchema.Annotations.Builder();
        var keyAnnotations = new DataViewSchema.Annotations.Builder();
        if (ClassNames is { } names)
        {
            ArrayDataView.AddText(scoreAnnotations, "SlotNames", names);
            ArrayDataView.AddText(keyAnnotations, "KeyValues", names);
        }
        builder.AddColumn(ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, ClassCount), scoreAnnotations.ToAnnotations());
        builder.AddColumn(PredictedLabelColumnName, new KeyDataViewType(typeof(uint), ClassCount), keyAnnotations.ToAnnotations());
        return builder.ToSchema();
    }

    public IDataView Transform(IDataView input) => new FusedDataView(input, this, GetOutputSchema(input.Schema));

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => ((ITransformer)stock.Value).GetRowToRowMapper(inputSchema);

    // The zip holds the stock twin; loading it needs only Microsoft.ML and Microsoft.ML.OnnxTransformer.
    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)stock.Value).Save(ctx);
}
