using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet.Internal;

namespace Mtkd.MLNet.Scoring;

/// <summary>
/// Scores every teacher ONNX model over a features column in batches and adds one column with all teachers'
/// logits (teacher-major: teacher 0's C logits, then teacher 1's, ...), the soft labels for distillation.
/// </summary>
public sealed class TeacherScoringEstimator : IEstimator<TeacherScoringTransformer>
{
    /// <summary>Settings of <see cref="TeacherScoringEstimator"/>.</summary>
    public sealed class Options
    {
        /// <summary>Teacher ONNX files, all with the same input size and class count.</summary>
        public IReadOnlyList<string> TeacherModelPaths { get; set; } = [];

        /// <summary>Float vector column fed to every teacher. Default "Features".</summary>
        public string InputColumnName { get; set; } = "Features";

        /// <summary>Added column of teacher logits. Default "TeacherLogits".</summary>
        public string OutputColumnName { get; set; } = "TeacherLogits";

        /// <summary>Rows per ONNX Runtime call. Default 256.</summary>
        public int BatchSize { get; set; } = 256;
    }

    private readonly Options options;

    internal TeacherScoringEstimator(Options options)
    {
        if (options.TeacherModelPaths.Count == 0)
            throw new ArgumentException("At least one teacher model is needed.", nameof(options));
        if (options.BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "BatchSize must be positive.");
        this.options = options;
    }

    public TeacherScoringTransformer Fit(IDataView input)
    {
        var teachers = new List<OnnxTeacher>();
        try
        {
            foreach (var path in options.TeacherModelPaths)
                teachers.Add(OnnxTeacher.Load(path));
            var transformer = new TeacherScoringTransformer(teachers, options.InputColumnName, options.OutputColumnName, options.BatchSize);
            transformer.GetOutputSchema(input.Schema); // validates the input column against the teachers
            return transformer;
        }
        catch
        {
            teachers.ForEach(t => t.Dispose());
            throw;
        }
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var input = SchemaShapes.Find(inputSchema, options.InputColumnName)
            ?? throw new ArgumentException($"Input column '{options.InputColumnName}' not found.", nameof(inputSchema));
        if (input.Kind != SchemaShape.Column.VectorKind.Vector || input.ItemType != NumberDataViewType.Single)
            throw new ArgumentException($"Column '{options.InputColumnName}' must be a known-size vector of Single.", nameof(inputSchema));
        // The width depends on the teachers' class count, known once the models are loaded in Fit.
        return SchemaShapes.With(inputSchema, b => b.AddColumn(options.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single)));
    }
}
