using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet.Internal;
using Mtkd.MLNet.SoftLabels;
using Mtkd.Training.Fusion;

namespace Mtkd.MLNet.Fusion;

/// <summary>The fitted ensemble: adds <c>Score</c> and <c>PredictedLabel</c> computed from the teacher logits of each row.</summary>
public sealed class TeacherFusionTransformer : ITransformer
{
    public const string ScoreColumnName = "Score";
    public const string PredictedLabelColumnName = "PredictedLabel";

    internal TeacherFusionTransformer(FusionMethod method, int teacherCount, int classCount, double[]? weights, string[]? classNames, string teacherLogitsColumnName)
    {
        Method = method;
        TeacherCount = teacherCount;
        ClassCount = classCount;
        Weights = weights;
        ClassNames = classNames;
        TeacherLogitsColumnName = teacherLogitsColumnName;
        _ = CreateFusion(); // validates the weights now rather than on the first row
    }

    public FusionMethod Method { get; }
    public int TeacherCount { get; }
    public int ClassCount { get; }

    /// <summary>The teacher weights of <see cref="FusionMethod.WeightedAverage"/>; null for the other methods.</summary>
    public IReadOnlyList<double>? Weights { get; }

    /// <summary>Class names, the label's key values, when the label had them.</summary>
    public IReadOnlyList<string>? ClassNames { get; }
    public string TeacherLogitsColumnName { get; }

    public bool IsRowToRowMapper => false;

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

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        throw new NotSupportedException("The fused ensemble is an evaluation baseline; use Transform on an IDataView.");

    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException(
            "The fused ensemble is not saved into model zips (ML.NET keeps the state of third-party transformers out of them); save the soft labels, or distill and save the student.");
}
