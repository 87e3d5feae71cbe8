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
/// <c>PredictedLabel</c> (a key like the training label); a binary student (from the binary trainer) adds, as ML.NET's
/// binary trainers do, <c>Score</c> (the logit), <c>Probability</c> and a Boolean <c>PredictedLabel</c>. It is a chain
/// of stock ML.NET transformers (ONNX scoring, then a prediction head), so <c>mlContext.Model.Save</c> writes a zip
/// that plain ML.NET loads.
/// </summary>
public sealed class StudentTransformer : ITransformer
{
    /// <summary>Column with the student's raw class logits.</summary>
    public const string LogitsColumnName = "StudentLogits";

    private readonly TransformerChain<ITransformer> chain;
    private readonly BinaryHead? binary;

    // What a binary student needs to rebuild its head with another threshold.
    private sealed record BinaryHead(IHostEnvironment Env, DataViewSchema Schema, float Probability);

    private StudentTransformer(TransformerChain<ITransformer> chain, byte[] onnxModel, NetworkSpec network, long parameterCount,
        IReadOnlyList<string> classNames, IReadOnlyList<EpochSummary> history, BinaryHead? binary = null)
    {
        this.chain = chain;
        this.binary = binary;
        OnnxModel = onnxModel;
        Network = network;
        ParameterCount = parameterCount;
        ClassNames = classNames;
        TrainingHistory = history;
    }

    /// <summary>
    /// The student as a standalone ONNX model (input "input", outputs "logits" and "probabilities"; a binary student's are
    /// [batch, 1]: the logit of true and its sigmoid).
    /// </summary>
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

    /// <summary>
    /// A binary student's decision threshold on <c>Probability</c>: <c>PredictedLabel</c> is true where the probability
    /// is at least this. 0.5 after training (ML.NET's default, Score ≥ 0); null for a multiclass student.
    /// </summary>
    public float? Threshold => binary?.Probability;

    /// <summary>
    /// The binary student with <c>PredictedLabel</c> true where <c>Probability</c> ≥ <paramref name="probability"/> (for
    /// example a threshold chosen on validation for a target recall); what ML.NET's <c>ChangeModelThreshold</c> does for
    /// its binary trainers, kept in the saved model. Scores and probabilities are unchanged, and so is
    /// <c>BinaryClassification.Evaluate</c>, which (for ML.NET's own trainers too) decides by Score &gt; 0 and reads no
    /// PredictedLabel: to evaluate at the threshold, count PredictedLabel against the label.
    /// </summary>
    public StudentTransformer WithThreshold(float probability)
    {
        if (binary is null)
            throw new InvalidOperationException("WithThreshold is for a binary student (BinaryClassification.Trainers.MultiTeacherDistillation); a multiclass student predicts the most probable class.");
        if (!(probability is > 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "A probability threshold is between 0 and 1 (exclusive).");
        var head = MlNetInternals.CreateBinaryPredictionHead(binary.Env, binary.Schema, LogitsColumnName, [1f], probability, "Probability");
        var copy = new StudentTransformer(new TransformerChain<ITransformer>(chain.First(), head), OnnxModel, Network, ParameterCount, ClassNames, TrainingHistory,
            binary with { Probability = probability }) { ExecutionProvider = ExecutionProvider };
        (copy.students, copy.StudentEnsemble) = (students, StudentEnsemble);
        return copy;
    }

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
        // Binary students are merged as two-class teachers ([0, z] each), so the ensemble's logit is the second minus the first.
        var head = students[0].binary is not null
            ? MlNetInternals.CreateBinaryPredictionHead(env, onnx.GetOutputSchema(trainSchema), logits, [-1f, 1f])
            : MlNetInternals.CreateSoftmaxPredictionHead(env, students[0].ClassNames.Count, onnx.GetOutputSchema(trainSchema), logits, labelColumn);
        return new TransformerChain<ITransformer>(onnx, head);
    }

    /// <summary>
    /// The trained network as a transformer; with <paramref name="binary"/> (a two-class network from the binary trainer)
    /// exported with one logit and given ML.NET's binary head.
    /// </summary>
    internal static StudentTransformer Create(IHostEnvironment env, SequentialNetwork student, IReadOnlyList<string> classNames,
        DataViewSchema trainSchema, string featureColumn, string labelColumn, IReadOnlyList<EpochSummary> history,
        int? gpuDeviceId = null, bool fallbackToCpu = true, bool binary = false)
    {
        var standalone = OnnxExporter.Export(student, new OnnxExportOptions { ClassNames = classNames, BinaryLogit = binary });
        // Inside ML.NET the graph's input and output are named after the columns, as OnnxTransformer requires.
        var forMlNet = OnnxExporter.Export(student, new OnnxExportOptions
        {
            InputName = featureColumn,
            LogitsName = LogitsColumnName,
            ProbabilitiesName = null,
            ClassNames = classNames,
            BinaryLogit = binary,
        });

        var (onnx, provider) = StockTransformers.ApplyOnnx(env, forMlNet, LogitsColumnName, featureColumn, trainSchema, gpuDeviceId, fallbackToCpu, "The student");
        var headSchema = onnx.GetOutputSchema(trainSchema);
        var head = binary
            ? MlNetInternals.CreateBinaryPredictionHead(env, headSchema, LogitsColumnName, [1f])
            : MlNetInternals.CreateSoftmaxPredictionHead(env, student.ClassCount, headSchema, LogitsColumnName, labelColumn);
        var chain = new TransformerChain<ITransformer>(onnx, head);
        return new StudentTransformer(chain, standalone, student.Spec, student.ParameterCount, classNames, history,
            binary ? new BinaryHead(env, headSchema, 0.5f) : null) { ExecutionProvider = provider };
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
