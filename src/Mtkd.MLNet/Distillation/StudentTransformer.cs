using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Mtkd.MLNet.Data;
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
    private readonly Rebuild? rebuild;

    // What a binary student needs to rebuild its head with another threshold.
    private sealed record BinaryHead(IHostEnvironment Env, DataViewSchema Schema, float Probability);

    // What the student needs to be rebuilt around another ONNX model (its int8 copy): the model ML.NET runs, the
    // training schema and columns, where it runs, and its input's shape (for reading calibration rows).
    private sealed record Rebuild(IHostEnvironment Env, byte[] ForMlNet, DataViewSchema TrainSchema, string FeatureColumn, string LabelColumn,
        int? GpuDeviceId, bool FallbackToCpu, int ClassCount, int Channels, int Height, int Width);

    private StudentTransformer(TransformerChain<ITransformer> chain, byte[] onnxModel, NetworkSpec network, long parameterCount,
        IReadOnlyList<string> classNames, IReadOnlyList<EpochSummary> history, BinaryHead? binary = null, Rebuild? rebuild = null)
    {
        this.chain = chain;
        this.binary = binary;
        this.rebuild = rebuild;
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
            binary with { Probability = probability }, rebuild) { ExecutionProvider = ExecutionProvider };
        (copy.students, copy.StudentEnsemble) = (students, StudentEnsemble);
        return copy;
    }

    /// <summary>
    /// Writes <see cref="OnnxModel"/> to a file, for use outside ML.NET; with <paramref name="quantize"/> (calibration rows with
    /// the feature column, a few hundred training images) the int8 model of <see cref="ToInt8"/> instead.
    /// </summary>
    public void SaveOnnx(string path, IDataView? quantize = null, QuantizationOptions? quantization = null) =>
        AtomicFile.WriteAllBytes(path, quantize is null ? OnnxModel : ToInt8(quantize, quantization).OnnxModel);

    /// <summary>Whether the student's ONNX model is int8 (from <see cref="ToInt8"/>).</summary>
    public bool IsInt8 => OnnxQuantizer.IsQuantized(OnnxModel);

    /// <summary>
    /// The student with its network quantized to int8 after training (<see cref="OnnxQuantizer"/>: int8 weights per channel,
    /// uint8 activations whose ranges come from <paramref name="calibration"/>, batch norm folded first), as ONNX Runtime's
    /// int8 kernels run it: a quarter to a third of the bytes, and faster where the convolutions are wide (from about 32
    /// channels; students of 8 channels run slower in int8 than in float: README, "int8 students"), at a small cost in
    /// accuracy (measure it: BinaryClassification/MulticlassClassification.Evaluate on both). The same columns, the same
    /// threshold; <c>mlContext.Model.Save</c> writes a zip that plain ML.NET loads, as for the float student.
    /// <paramref name="calibration"/>: rows with the feature column as the student was trained on (a few hundred training
    /// images; labels are not read).
    /// </summary>
    public StudentTransformer ToInt8(IDataView calibration, QuantizationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        if (rebuild is not { } r)
            throw new InvalidOperationException("This student cannot be rebuilt (it was not made by a MultiTeacherDistillation trainer).");
        if (IsInt8)
            throw new InvalidOperationException("The student is already int8; quantize the float student.");
        var rows = ImageDatasetExtensions.Read(calibration, r.FeatureColumn, null, ImageDatasetExtensions.MissingLabel.Unlabeled, r.Channels, r.Height, r.Width,
            ClassNames, [], "The calibration data");
        if (rows.Count == 0)
            throw new ArgumentException("The calibration data has no rows: int8 ranges are read from images (a few hundred training images).", nameof(calibration));
        var standalone = OnnxQuantizer.Quantize(OnnxModel, rows, options, "the student");
        var forMlNet = OnnxQuantizer.Quantize(r.ForMlNet, rows, options, "the student (for ML.NET)");
        var copy = FromModels(r with { ForMlNet = forMlNet }, standalone, Network, ParameterCount, ClassNames, TrainingHistory, binary?.Probability);
        return copy;
    }

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

        var input = student.InputShape;
        var rebuild = new Rebuild(env, forMlNet, trainSchema, featureColumn, labelColumn, gpuDeviceId, fallbackToCpu, student.ClassCount,
            input.Channels, input.Height, input.Width);
        return FromModels(rebuild, standalone, student.Spec, student.ParameterCount, classNames, history, binary ? 0.5f : null);
    }

    // The chain around the ONNX model ML.NET runs (stock ONNX transformer, then the prediction head) and the standalone model.
    private static StudentTransformer FromModels(Rebuild r, byte[] standalone, NetworkSpec network, long parameterCount, IReadOnlyList<string> classNames,
        IReadOnlyList<EpochSummary> history, float? binaryThreshold)
    {
        var (onnx, provider) = StockTransformers.ApplyOnnx(r.Env, r.ForMlNet, LogitsColumnName, r.FeatureColumn, r.TrainSchema, r.GpuDeviceId, r.FallbackToCpu, "The student");
        var headSchema = onnx.GetOutputSchema(r.TrainSchema);
        // A fresh binary student decides by Score ≥ 0 as ML.NET's trainers do; another threshold is on Probability (WithThreshold).
        var head = binaryThreshold is { } threshold
            ? threshold == 0.5f ? MlNetInternals.CreateBinaryPredictionHead(r.Env, headSchema, LogitsColumnName, [1f])
                : MlNetInternals.CreateBinaryPredictionHead(r.Env, headSchema, LogitsColumnName, [1f], threshold, "Probability")
            : MlNetInternals.CreateSoftmaxPredictionHead(r.Env, r.ClassCount, headSchema, LogitsColumnName, r.LabelColumn);
        var chain = new TransformerChain<ITransformer>(onnx, head);
        return new StudentTransformer(chain, standalone, network, parameterCount, classNames, history,
            binaryThreshold is { } p ? new BinaryHead(r.Env, headSchema, p) : null, r) { ExecutionProvider = provider };
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
