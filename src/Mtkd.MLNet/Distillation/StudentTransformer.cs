using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Mtkd.MLNet.Internal;
using Mtkd.Training;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Engine;
using Mtkd.Training.Teachers;

namespace Mtkd.MLNet.Distillation;

/// <summary>
/// The distilled student as an ML.NET transformer: adds <c>StudentLogits</c>, <c>Score</c> (class probabilities) and
/// <c>PredictedLabel</c> (a key like the training label). It is a chain of stock ML.NET transformers (ONNX scoring,
/// then a softmax prediction head), so <c>mlContext.Model.Save</c> writes a zip that plain ML.NET loads.
/// </summary>
public sealed class StudentTransformer : ITransformer
{
    /// <summary>Column with the student's raw class logits.</summary>
    public const string LogitsColumnName = "StudentLogits";

    private readonly TransformerChain<ITransformer> chain;

    private StudentTransformer(TransformerChain<ITransformer> chain, byte[] onnxModel, NetworkSpec network, long parameterCount,
        IReadOnlyList<string> classNames, IReadOnlyList<EpochSummary> history)
    {
        this.chain = chain;
        OnnxModel = onnxModel;
        Network = network;
        ParameterCount = parameterCount;
        ClassNames = classNames;
        TrainingHistory = history;
    }

    /// <summary>The student as a standalone ONNX model (input "input", outputs "logits" and "probabilities").</summary>
    public byte[] OnnxModel { get; }
    public NetworkSpec Network { get; }
    public long ParameterCount { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public IReadOnlyList<EpochSummary> TrainingHistory { get; }

    /// <summary>
    /// Every student the run trained, each a transformer of its own, this one among them: one for most methods;
    /// mutual learning's peers; online ensemble compression's branches, widest first (this one is the narrowest).
    /// </summary>
    public IReadOnlyList<StudentTransformer> Students => students ?? [this];

    private IReadOnlyList<StudentTransformer>? students;

    /// <summary>Writes <see cref="OnnxModel"/> to a file, for use outside ML.NET.</summary>
    public void SaveOnnx(string path) => AtomicFile.WriteAllBytes(path, OnnxModel);

    /// <summary>
    /// With several students (mutual learning's peers, online ensemble compression's branches): all of them as one model,
    /// the mean of their logits (the branch ensemble, the method's own teacher), a chain of stock transformers adding
    /// <c>Score</c> and <c>PredictedLabel</c> that saves and loads like the student; null with one student.
    /// </summary>
    public ITransformer? StudentEnsemble { get; private set; }

    /// <summary>The student at <paramref name="chosen"/>, each of <paramref name="students"/> knowing them all and their ensemble.</summary>
    internal static StudentTransformer WithStudents(StudentTransformer[] students, int chosen, ITransformer? ensemble = null)
    {
        foreach (var s in students) (s.students, s.StudentEnsemble) = (students, ensemble);
        return students[chosen];
    }

    /// <summary>The students merged into one ONNX model (mean logits) under ML.NET's ONNX transformer, then the softmax head.</summary>
    internal static ITransformer Ensemble(IHostEnvironment env, IReadOnlyList<StudentTransformer> students, DataViewSchema trainSchema, string featureColumn,
        string labelColumn, int? gpuDeviceId, bool fallbackToCpu)
    {
        const string logits = "EnsembleLogits";
        var merged = OnnxEnsemble.Merge(students.Select((s, k) => TeacherModel.FromBytes(s.OnnxModel, $"student {k}")).ToArray(), new OnnxEnsembleOptions
        {
            Fusion = Training.Fusion.FusionMethod.MeanLogit, InputName = featureColumn, LogitsName = logits, ProbabilitiesName = "EnsembleProbabilities",
            TeacherLogitsName = null, ClassNames = students[0].ClassNames,
        });
        var (onnx, _) = StockTransformers.ApplyOnnx(env, merged, logits, featureColumn, trainSchema, gpuDeviceId, fallbackToCpu, "The students' ensemble");
        var head = MlNetInternals.CreateSoftmaxPredictionHead(env, students[0].ClassNames.Count, onnx.GetOutputSchema(trainSchema), logits, labelColumn);
        return new TransformerChain<ITransformer>(onnx, head);
    }

    internal static StudentTransformer Create(IHostEnvironment env, SequentialNetwork student, IReadOnlyList<string> classNames,
        DataViewSchema trainSchema, string featureColumn, string labelColumn, IReadOnlyList<EpochSummary> history,
        int? gpuDeviceId = null, bool fallbackToCpu = true)
    {
        var standalone = OnnxExporter.Export(student, new OnnxExportOptions { ClassNames = classNames });
        // Inside ML.NET the graph's input and output are named after the columns, as OnnxTransformer requires.
        var forMlNet = OnnxExporter.Export(student, new OnnxExportOptions
        {
            InputName = featureColumn,
            LogitsName = LogitsColumnName,
            ProbabilitiesName = null,
            ClassNames = classNames,
        });

        var (onnx, provider) = StockTransformers.ApplyOnnx(env, forMlNet, LogitsColumnName, featureColumn, trainSchema, gpuDeviceId, fallbackToCpu, "The student");
        var head = MlNetInternals.CreateSoftmaxPredictionHead(env, student.ClassCount, onnx.GetOutputSchema(trainSchema), LogitsColumnName, labelColumn);
        var chain = new TransformerChain<ITransformer>(onnx, head);
        return new StudentTransformer(chain, standalone, student.Spec, student.ParameterCount, classNames, history) { ExecutionProvider = provider };
    }

    /// <summary>Where the student runs in ONNX Runtime: "CPU", "CUDA device N", or the CPU with the reason a GPU request fell back.</summary>
    public string ExecutionProvider { get; private init; } = "CPU";

    public bool IsRowToRowMapper => ((ITransformer)chain).IsRowToRowMapper;
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => chain.GetOutputSchema(inputSchema);
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => ((ITransformer)chain).GetRowToRowMapper(inputSchema);
    public IDataView Transform(IDataView input) => chain.Transform(input);

    // The zip holds the stock chain; loading it needs only Microsoft.ML and Microsoft.ML.OnnxTransformer.
    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)chain).Save(ctx);
}
