using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet.Internal;
using Mtkd.MLNet.SoftLabels;
using Mtkd.Training.Fusion;
using Mtkd.Training.Data;

namespace Mtkd.MLNet.Fusion;

/// <summary>
/// The ensemble as an ML.NET model: turns the teacher-logits column into <c>Score</c> (class probabilities, or a
/// normalised vote tally for ranked votes) and a key <c>PredictedLabel</c>, so MulticlassClassification.Evaluate
/// measures the ensemble the student has to approach.
/// </summary>
public sealed class TeacherFusionEstimator : IEstimator<TeacherFusionTransformer>
{
    /// <summary>Settings of <see cref="TeacherFusionEstimator"/>.</summary>
    public sealed class Options
    {
        /// <summary>How the teachers are combined. Default <see cref="FusionMethod.MeanProbability"/>.</summary>
        public FusionMethod Method { get; set; } = FusionMethod.MeanProbability;

        /// <summary>Column of teacher logits, teacher-major. Default "TeacherLogits".</summary>
        public string TeacherLogitsColumnName { get; set; } = TeacherColumns.Logits;

        /// <summary>
        /// Key label column. Default "Label". Gives <c>PredictedLabel</c> its key values, and the validation
        /// accuracies behind <see cref="FusionMethod.WeightedAverage"/>; optional otherwise.
        /// </summary>
        public string LabelColumnName { get; set; } = "Label";

        /// <summary>Teachers in the logits column. Default null: read from its annotations.</summary>
        public int? TeacherCount { get; set; }

        /// <summary>
        /// Weights for <see cref="FusionMethod.WeightedAverage"/>. Default null: each teacher's accuracy on the data
        /// given to Fit (use a validation set), normalised.
        /// </summary>
        public IReadOnlyList<double>? Weights { get; set; }
    }

    private readonly Options options;
    private readonly Microsoft.ML.Runtime.IHostEnvironment env;

    internal TeacherFusionEstimator(Microsoft.ML.Runtime.IHostEnvironment env, Options options)
    {
        this.env = env;
        if (!Enum.IsDefined(options.Method))
            throw new ArgumentOutOfRangeException(nameof(options), options.Method, "Unknown fusion method.");
        this.options = options;
    }

    public TeacherFusionTransformer Fit(IDataView input)
    {
        var schema = input.Schema;
        var logits = SoftLabelColumns.Logits(schema, options.TeacherLogitsColumnName);
        var label = schema.GetColumnOrNull(options.LabelColumnName);
        var (keyCount, classNames) = SoftLabelColumns.Classes(label);
        int teachers = SoftLabelColumns.TeacherCount(logits, options.TeacherCount, keyCount);
        int classes = ((VectorDataViewType)logits.Type).Size / teachers;
        if (keyCount is { } k && k != classes)
            throw new ArgumentException($"Label column '{options.LabelColumnName}' has {k} classes, but '{logits.Name}' holds {classes} logits per teacher.");

        double[]? weights = null;
        if (options.Method == FusionMethod.WeightedAverage)
            weights = options.Weights?.ToArray() ?? AccuracyWeights(input, logits, label, teachers, classes);
        return new TeacherFusionTransformer(options.Method, teachers, classes, weights, classNames?.Length == classes ? classNames : null,
            options.TeacherLogitsColumnName, env, schema);
    }

    private double[] AccuracyWeights(IDataView input, DataViewSchema.Column logits, DataViewSchema.Column? label, int teachers, int classes)
    {
        if (label is not { } labelColumn)
            throw new ArgumentException(
                $"WeightedAverage learns its weights from teacher accuracy, which needs label column '{options.LabelColumnName}' in the data given to Fit; or set Options.Weights.");
        var rows = new List<float>();
        var labels = new List<int>();
        using var cursor = input.GetRowCursor([logits, labelColumn]);
        var getLogits = cursor.GetGetter<VBuffer<float>>(logits);
        var getLabel = SoftLabelColumns.ClassIndex(cursor, labelColumn, classes);
        VBuffer<float> row = default;
        while (cursor.MoveNext())
        {
            int y = getLabel();
            if (y < 0) continue;
            getLogits(ref row);
            rows.AddRange(row.DenseValues());
            labels.Add(y);
        }
        if (labels.Count == 0)
            throw new ArgumentException($"WeightedAverage found no labelled rows in '{options.LabelColumnName}' to learn weights from.");
        return TeacherWeights.FromAccuracy(rows.ToArray(), labels, teachers, classes);
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        if (SchemaShapes.Find(inputSchema, options.TeacherLogitsColumnName) is not { Kind: SchemaShape.Column.VectorKind.Vector } logits
            || logits.ItemType != NumberDataViewType.Single)
            throw new ArgumentException($"Teacher logits column '{options.TeacherLogitsColumnName}' must exist and be a known-size vector of Single.", nameof(inputSchema));
        // A SchemaShape records kind and item type, not sizes or key counts, so placeholder sizes describe the columns.
        return SchemaShapes.With(inputSchema, b =>
        {
            b.AddColumn(TeacherFusionTransformer.ScoreColumnName, new VectorDataViewType(NumberDataViewType.Single, 1));
            b.AddColumn(TeacherFusionTransformer.PredictedLabelColumnName, new KeyDataViewType(typeof(uint), 1));
        });
    }
}
