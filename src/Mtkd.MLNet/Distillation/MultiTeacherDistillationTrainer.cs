using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Mtkd.MLNet.Data;
using Mtkd.MLNet.Internal;
using Mtkd.MLNet.Scoring;
using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Distillation.Methods;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Engine;
using Mtkd.Training.Teachers;

namespace Mtkd.MLNet.Distillation;

/// <summary>
/// Trains a compact student network by a <see cref="DistillationJob"/> (the method of <c>Distillation.Method</c>,
/// output_avg by default) from the data view's teacher columns or the options' teachers, and returns it as an ML.NET
/// model with <c>Score</c> and <c>PredictedLabel</c>. An adapter: it reads the view into the job's data and wraps the result.
/// The binary catalog's trainer reads a Boolean label, trains a two-class network and returns it with ML.NET's
/// binary outputs (<c>Score</c> the logit, <c>Probability</c>, a Boolean <c>PredictedLabel</c>).
/// </summary>
public sealed class MultiTeacherDistillationTrainer : IEstimator<StudentTransformer>
{
    private readonly IHostEnvironment env;
    private readonly MultiTeacherDistillationOptions options;
    private readonly Func<bool> isCanceled;
    private readonly DistillationJob settings; // the job's settings from the options; Fit adds the data and teachers
    private readonly bool binary;

    internal MultiTeacherDistillationTrainer(IHostEnvironment env, MultiTeacherDistillationOptions options, bool binary = false)
    {
        this.env = env;
        this.options = options;
        this.binary = binary;
        MlNetInternals.ResolveAll(); // a changed ML.NET fails here, not after training
        isCanceled = MlNetInternals.CancellationCheck(env);
        // Every setting is checked here, when the pipeline is built, not after teachers were scored.
        // The job's own rules, on the settings alone (no data is read yet); then the two that name ML.NET options.
        settings = new DistillationJob
        {
            Trainer = options.Trainer, Distillation = options.Distillation, ValidationFraction = options.ValidationFraction,
            ConsistentTeaching = options.ConsistentTeaching, Views = options.Views, Student = StudentSpec(),
        };
        settings.Validate();
        if (options.ValidationSet is not null && options.ValidationFraction > 0)
            throw new ArgumentException("Give ValidationSet or ValidationFraction, not both: the validation rows come from one of them.", nameof(options));
        // Without teachers, α = 1 is label training (the baseline), which needs none.
        if ((options.ConsistentTeaching || options.Views > 1) && options.Teachers.Count == 0 && options.Distillation.Method.Reads != TeacherSignal.None
            && options.Distillation.Alpha != 1)
            throw new ArgumentException($"{(options.ConsistentTeaching ? "ConsistentTeaching scores the teachers on every batch" : "Views scores a pool of views with the teachers")}: set Teachers.", nameof(options));
    }

    public StudentTransformer Fit(IDataView input)
    {
        if (isCanceled())
            throw new OperationCanceledException("MLContext.CancelExecution() was called before Fit; use a new MLContext to train again.");
        var (classCount, classNames) = Classes(input.Schema);
        // α = 1 weighs the teachers at nothing: with none given, this is the same student trained the standard way.
        var distillation = LabelsOnly(input.Schema) ? WithMethod(new LabelsOnly()) : options.Distillation;
        var reads = distillation.Method.Reads;
        OnnxTeachers? teachers = null;
        try
        {
            if (reads != TeacherSignal.None && options.Teachers.Count > 0 && (options.ConsistentTeaching || options.Views > 1
                || input.Schema.GetColumnOrNull(options.TeacherLogitsColumnName) is null
                || (reads.HasFlag(TeacherSignal.Features) && input.Schema.GetColumnOrNull(options.TeacherFeaturesColumnName) is null)))
                teachers = LoadTeachers(reads);
            bool stored = reads != TeacherSignal.None && !options.ConsistentTeaching && options.Views == 1;
            var data = ReadImages(input, classCount, classNames, stored ? StoredColumns(input.Schema, reads, teachers, required: true) : []);
            teachers?.CheckFits(data); // a teacher of other images or classes is named before any training
            var unlabeled = options.UnlabeledData is { } view
                ? ReadImages(view, classCount, classNames, stored ? StoredColumns(view.Schema, reads, teachers, required: false) : [], labeled: false, what: "UnlabeledData")
                : null;
            if (unlabeled?.Column(TeacherColumns.Logits) is { } extra && data.Column(TeacherColumns.Logits) is { } own && extra.Width != own.Width)
                throw new ArgumentException($"UnlabeledData has {extra.Width / classCount} teachers' logits per row; the training data has {own.Width / classCount}.", nameof(options));
            var validation = ReadValidationSet(classCount, classNames);
            return Train(progress => settings with
            {
                Data = data, Unlabeled = unlabeled, Validation = validation, Teachers = teachers, Trainer = TrainerOptionsOnDevice(), Distillation = distillation,
                Progress = progress,
            }, classNames, input.Schema);
        }
        finally
        {
            teachers?.Dispose();
        }
    }

    // The label's classes: a key's for the multiclass trainer, false and true for the binary one.
    private (int Count, string[] Names) Classes(DataViewSchema schema) =>
        binary ? KeyLabels.Boolean(schema, options.LabelColumnName) : KeyLabels.Classes(schema, options.LabelColumnName);

    private bool LabelsOnly(DataViewSchema schema) =>
        options.Distillation.Alpha == 1 && options.Teachers.Count == 0 && schema.GetColumnOrNull(options.TeacherLogitsColumnName) is null;

    private DistillationOptions WithMethod(DistillationMethod method) => new()
    {
        Method = method, Temperature = options.Distillation.Temperature, Alpha = options.Distillation.Alpha, LabelSmoothing = options.Distillation.LabelSmoothing,
    };

    // The teachers of the options as the job's: their logits, and with TeacherFeaturesOutputName their features.
    private OnnxTeachers LoadTeachers(TeacherSignal reads)
    {
        var (gpu, fallback) = Gpu();
        return OnnxTeachers.Load(options.Teachers, new TeacherSessionSettings(null, null, false, gpu, fallback),
            reads.HasFlag(TeacherSignal.Features) ? options.TeacherFeaturesOutputName : null);
    }

    // The stored teacher columns to read into the job's data: (ML.NET column, job column). Teachers that will score cover what is missing.
    private List<(string Column, string As)> StoredColumns(DataViewSchema schema, TeacherSignal reads, OnnxTeachers? teachers, bool required)
    {
        var columns = new List<(string, string)>();
        if (schema.GetColumnOrNull(options.TeacherLogitsColumnName) is not null)
            columns.Add((options.TeacherLogitsColumnName, TeacherColumns.Logits));
        else if (teachers is null && required)
            throw new ArgumentException($"Teacher logits column '{options.TeacherLogitsColumnName}' not found; add it with " +
                $"mlContext.Transforms.ScoreTeachers(...), or set Teachers to score them here.");
        if (reads.HasFlag(TeacherSignal.Features))
        {
            if (schema.GetColumnOrNull(options.TeacherFeaturesColumnName) is not null)
                columns.Add((options.TeacherFeaturesColumnName, TeacherColumns.Features));
            else if (teachers is not { FeatureWidth: > 0 } && required)
                throw new ArgumentException($"{options.Distillation.Method.Name} needs the teachers' features in column " +
                    $"'{options.TeacherFeaturesColumnName}': score them with ScoreTeachers and the teachers' feature output (TeacherModel.OutputName), or set Teachers and TeacherFeaturesOutputName.");
        }
        if (options.Distillation.OutOfBagTeachers)
        {
            if (schema.GetColumnOrNull(options.TeacherInBagColumnName) is not null)
                columns.Add((options.TeacherInBagColumnName, TeacherColumns.InBag));
            else if (required)
                throw new ArgumentException($"OutOfBagTeachers needs column '{options.TeacherInBagColumnName}' (per teacher 1 where it trained on the " +
                    $"row): load soft labels with LoadSoftLabels from a file that records the teachers' training rows (mtkd score of teachers from mtkd teachers).");
        }
        return columns;
    }

    // Runs the job on the chosen device, reporting to ML.NET's log and stopping on CancelExecution, and wraps the student.
    private StudentTransformer Train(Func<IProgress<TrainingProgress>, DistillationJob> job, string[] classNames, DataViewSchema schema)
    {
        using var channel = env.Start("MultiTeacherDistillation");
        using var stop = new CancellationTokenSource();
        using var result = job(new ChannelProgress(channel, options.Progress, isCanceled, stop)).Run(stop.Token);
        var (gpu, fallback) = Gpu();
        // A transformer holds the student's ONNX model, not the network: the result frees the networks when done.
        var students = result.Students.Select(s => StudentTransformer.Create(env, s, classNames, schema, options.FeatureColumnName, options.LabelColumnName,
            result.History, gpu, fallback, binary)).ToArray();
        return StudentTransformer.WithStudents(students, result.Students.ToList().IndexOf(result.Student),
            students.Length > 1 ? StudentTransformer.Ensemble(env, students, schema, options.FeatureColumnName, options.LabelColumnName, gpu, fallback) : null);
    }

    // The options' GPU settings, else the MLContext's (MLContext.GpuDeviceId and FallbackToCpu), as ML.NET's own components take them.
    private (int? GpuDeviceId, bool FallbackToCpu) Gpu()
    {
        var (contextGpu, contextFallback) = MlNetInternals.GpuSettings(env);
        return (options.GpuDeviceId ?? contextGpu, options.FallbackToCpu ?? contextFallback);
    }

    // Trainer.Device left unset trains where the MLContext (or the options' GpuDeviceId) says; a device given there
    // wins. Without FallbackToCpu an unusable GPU fails here, before any data is read onto it.
    private TrainerOptions TrainerOptionsOnDevice()
    {
        var (gpu, fallback) = Gpu();
        if (options.Trainer.Device is not null || gpu is null)
            return options.Trainer;
        var onDevice = options.Trainer.Clone();
        onDevice.Device = $"cuda:{gpu}";
        TrainingDevice.Resolve(onDevice.Device, fallback);
        return onDevice;
    }

    // ValidationSet's features and labels, as ML.NET's image and TorchSharp trainers take a validation set; null when none is given.
    private ImageDataset? ReadValidationSet(int classCount, string[] classNames)
    {
        if (options.ValidationSet is not { } view)
            return null;
        var (validationClasses, _) = Classes(view.Schema);
        if (validationClasses != classCount)
            throw new ArgumentException($"ValidationSet's label column '{options.LabelColumnName}' has {validationClasses} classes; the training data has {classCount}.", nameof(options));
        return ReadImages(view, classCount, classNames, [], what: "ValidationSet").LabeledOnly();
    }

    private NetworkSpec StudentSpec() => options.StudentNetwork ?? NetworkPresets.Get(options.Student, options.StudentWidth);

    /// <summary>
    /// Epoch summaries and decisions to ML.NET's log; every report to the user's progress too. After each step it asks
    /// whether <c>mlContext.CancelExecution()</c> was called, and then stops the run before the next step.
    /// </summary>
    private sealed class ChannelProgress(IChannel channel, IProgress<TrainingProgress>? user, Func<bool> isCanceled, CancellationTokenSource stop)
        : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (isCanceled()) stop.Cancel();
            if (value.Message is { } message)
                channel.Info(MessageSensitivity.None, "{0}", message);
            if (value.Completed is { } e)
                channel.Info(MessageSensitivity.None, "{0}", $"Epoch {e.Epoch}/{value.Epochs}: loss {e.MeanLoss:F4}, train accuracy {e.TrainAccuracy:P2}" +
                    (e.ValidationAccuracy is { } v ? $", validation accuracy {v:P2}, validation loss {e.ValidationLoss:F4}" : "") +
                    $", learning rate {e.LearningRate:G3}, {e.Seconds:F1} s");
            user?.Report(value);
        }
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var label = SchemaShapes.Find(inputSchema, options.LabelColumnName);
        if (binary && label is not { ItemType: BooleanDataViewType, Kind: SchemaShape.Column.VectorKind.Scalar })
            throw new ArgumentException($"Label column '{options.LabelColumnName}' must exist and be a scalar Boolean for the binary trainer" +
                (label is { IsKey: true } ? " (a key label is the multiclass trainer's)." : "."), nameof(inputSchema));
        if (!binary && label is not { IsKey: true, Kind: SchemaShape.Column.VectorKind.Scalar })
            throw new ArgumentException($"Label column '{options.LabelColumnName}' must exist and be a scalar key (use MapValueToKey)" +
                (label is { ItemType: BooleanDataViewType } ? "; for a Boolean label use BinaryClassification.Trainers.MultiTeacherDistillation." : "."), nameof(inputSchema));
        if (SchemaShapes.Find(inputSchema, options.FeatureColumnName)?.Kind != SchemaShape.Column.VectorKind.Vector)
            throw new ArgumentException($"Feature column '{options.FeatureColumnName}' must exist and be a known-size vector.", nameof(inputSchema));
        if (SchemaShapes.Find(inputSchema, options.TeacherLogitsColumnName) is null && options.Teachers.Count == 0 && options.Distillation.Alpha != 1
            && options.Distillation.Method.Reads != TeacherSignal.None)
            throw new ArgumentException($"Teacher logits column '{options.TeacherLogitsColumnName}' not found; add it with mlContext.Transforms.ScoreTeachers(...).", nameof(inputSchema));
        // A SchemaShape records kind and item type, not sizes or key counts, so placeholder sizes describe the columns.
        return SchemaShapes.With(inputSchema, b =>
        {
            b.AddColumn(StudentTransformer.LogitsColumnName, new VectorDataViewType(NumberDataViewType.Single, 1));
            if (binary)
            {
                b.AddColumn("Score", NumberDataViewType.Single);
                b.AddColumn("Probability", NumberDataViewType.Single);
                b.AddColumn("PredictedLabel", BooleanDataViewType.Instance);
                return;
            }
            b.AddColumn("Score", new VectorDataViewType(NumberDataViewType.Single, 1));
            b.AddColumn("PredictedLabel", new KeyDataViewType(typeof(uint), 1));
        });
    }

    // The features as images, the key label (0, a missing key, is an unlabelled row; with labeled: false there is no
    // label column) and the given float columns as the dataset's columns.
    private ImageDataset ReadImages(IDataView input, int classCount, string[] classNames, IReadOnlyList<(string Column, string As)> columns,
        bool labeled = true, string what = "The training data")
    {
        var featureColumn = input.Schema.GetColumnOrNull(options.FeatureColumnName)
            ?? throw new ArgumentException($"Feature column '{options.FeatureColumnName}' not found.");
        var (channels, height, width) = ImageShape(ImageDatasetExtensions.FloatVectorSize(featureColumn));
        foreach (var (column, role) in columns)
            if (role == TeacherColumns.Logits && input.Schema.GetColumnOrNull(column) is { } logits && ImageDatasetExtensions.FloatVectorSize(logits) % classCount != 0)
                throw new ArgumentException($"Column '{column}' has {ImageDatasetExtensions.FloatVectorSize(logits)} values, not a whole number of teachers × {classCount} classes.");
        return ImageDatasetExtensions.Read(input, options.FeatureColumnName, labeled ? options.LabelColumnName : null, ImageDatasetExtensions.MissingLabel.Unlabeled,
            channels, height, width, classNames, columns, what);
    }

    // The features as images (C×H×W), or as vectors of F values (F×1×1) for an MLP student without an image shape.
    private (int Channels, int Height, int Width) ImageShape(int featureSize)
    {
        if (options.ImageChannels > 0 && options.ImageHeight > 0 && options.ImageWidth > 0)
        {
            if (options.ImageChannels * options.ImageHeight * options.ImageWidth != featureSize)
                throw new ArgumentException($"Image shape {options.ImageChannels}x{options.ImageHeight}x{options.ImageWidth} does not match the " +
                    $"{featureSize} values of column '{options.FeatureColumnName}'.");
            return (options.ImageChannels, options.ImageHeight, options.ImageWidth);
        }
        if (StudentSpec().Layers[0] is FlattenLayer)
            return (featureSize, 1, 1);
        int side = (int)Math.Round(Math.Sqrt(featureSize));
        if (side * side != featureSize)
            throw new ArgumentException($"Column '{options.FeatureColumnName}' has {featureSize} values, not a square grey image; set ImageChannels, ImageHeight and " +
                $"ImageWidth, or for feature vectors (tabular data, embeddings) use the \"{NetworkPresets.MlpPreset}\" student (Student, or StudentNetwork = NetworkPresets.Mlp(...)).");
        return (1, side, side);
    }
}
