using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Mtkd.MLNet.Internal;
using Mtkd.Training.Teachers;
using Mtkd.Training.Data;

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
        /// <summary>The teachers, all with the same input size and class count. A path converts to <see cref="TeacherModel.FromFile"/>.</summary>
        public IReadOnlyList<TeacherModel> Teachers { get; set; } = [];

        /// <summary>Float vector column fed to every teacher. Default "Features".</summary>
        public string InputColumnName { get; set; } = "Features";

        /// <summary>Added column of teacher logits. Default "TeacherLogits".</summary>
        public string OutputColumnName { get; set; } = TeacherColumns.Logits;

        /// <summary>Rows per ONNX Runtime call. Default 256. Teachers exported with a fixed batch size run in batches of that size.</summary>
        public int BatchSize { get; set; } = 256;

        /// <summary>ONNX Runtime threads within one operator. Default null: ONNX Runtime's default, one per core.</summary>
        public int? IntraOpThreads { get; set; }

        /// <summary>ONNX Runtime threads across operators. Default null: ONNX Runtime's default.</summary>
        public int? InterOpThreads { get; set; }

        /// <summary>
        /// Whether ONNX Runtime's worker threads spin while they wait for work. Default false: spinning threads take
        /// the cores the work needs on small machines; on 2 cores, scoring ran about 2.5× faster without it
        /// (benchmarks/Mtkd.Benchmarks). Set true on large dedicated machines if it measures faster there.
        /// </summary>
        public bool AllowSpinning { get; set; }

        /// <summary>
        /// CUDA device to run the teachers on. Default null: <c>MLContext.GpuDeviceId</c> (itself null, the CPU, unless
        /// set). Needs the GPU ONNX Runtime (-p:MtkdOrtGpu=true).
        /// </summary>
        public int? GpuDeviceId { get; set; }

        /// <summary>Whether a GPU request that cannot be met falls back to the CPU or fails. Default null: <c>MLContext.FallbackToCpu</c>.</summary>
        public bool? FallbackToCpu { get; set; }
    }

    private readonly Options options;
    private readonly IHostEnvironment env;

    internal TeacherScoringEstimator(IHostEnvironment env, Options options)
    {
        MlNetInternals.ResolveAll();
        if (options.Teachers.Count == 0)
            throw new ArgumentException("At least one teacher model is needed.", nameof(options));
        if (options.BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "BatchSize must be positive.");
        if (options.IntraOpThreads < 0 || options.InterOpThreads < 0)
            throw new ArgumentOutOfRangeException(nameof(options), "IntraOpThreads and InterOpThreads must not be negative (0 lets ONNX Runtime choose).");
        this.options = options;
        this.env = env;
    }

    public TeacherScoringTransformer Fit(IDataView input)
    {
        var (contextGpu, contextFallback) = MlNetInternals.GpuSettings(env);
        var settings = new TeacherSessionSettings(options.IntraOpThreads, options.InterOpThreads, options.AllowSpinning,
            options.GpuDeviceId ?? contextGpu, options.FallbackToCpu ?? contextFallback);
        var teachers = OnnxTeachers.Load(options.Teachers, settings);
        try
        {
            // A block of BatchSize images and their logits is held at once: an absurd size is refused, saying what fits.
            double perImage = sizeof(float) * 2.0 * (teachers.InputSize + teachers.TeacherCount * teachers.ClassCount);
            long available = Mtkd.Training.Engine.TrainingMemory.Available();
            if (options.BatchSize * perImage > available)
                throw new ArgumentException(
                    $"BatchSize {options.BatchSize:N0}: a block of that many images needs about {options.BatchSize * perImage / (1L << 30):F1} GiB; this machine " +
                    $"has {available / (double)(1L << 30):F1} GiB: at most about {(long)(available / perImage):N0} images fit in a block.");
            var transformer = new TeacherScoringTransformer(teachers, options.InputColumnName, options.OutputColumnName, options.BatchSize,
                MlNetInternals.CancellationCheck(env), new(env, options.Teachers.ToArray(), input.Schema, settings.GpuDeviceId, settings.FallbackToCpu));
            transformer.GetOutputSchema(input.Schema); // validates the input column against the teachers
            return transformer;
        }
        catch
        {
            teachers.Dispose();
            throw;
        }
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var input = SchemaShapes.Find(inputSchema, options.InputColumnName)
            ?? throw new ArgumentException($"Input column '{options.InputColumnName}' not found.", nameof(inputSchema));
        if (input.Kind != SchemaShape.Column.VectorKind.Vector || input.ItemType != NumberDataViewType.Single)
            throw new ArgumentException($"Column '{options.InputColumnName}' must be a known-size vector of Single.", nameof(inputSchema));
        // The width depends on the teachers' class count, known once the models are loaded in Fit; a SchemaShape records
        // only that it is a known-size vector, which is what FuseTeachers and MultiTeacherDistillation check downstream.
        return SchemaShapes.With(inputSchema, b => b.AddColumn(options.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, 1)));
    }
}
