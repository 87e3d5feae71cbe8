using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Mtkd.MLNet.Internal;
using Mtkd.MLNet.Scoring;
using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Engine;

namespace Mtkd.MLNet.Distillation;

/// <summary>
/// Trains a compact student network from the teachers' logits (the output-averaging loss of
/// <see cref="DistillationLoss"/>) and returns it as an ML.NET model with <c>Score</c> and <c>PredictedLabel</c>.
/// </summary>
public sealed class MultiTeacherDistillationTrainer : IEstimator<StudentTransformer>
{
    private readonly IHostEnvironment env;
    private readonly MultiTeacherDistillationOptions options;
    private readonly Func<bool> isCanceled;

    internal MultiTeacherDistillationTrainer(IHostEnvironment env, MultiTeacherDistillationOptions options)
    {
        this.env = env;
        this.options = options;
        MlNetInternals.ResolveAll(); // a changed ML.NET fails here, not after training
        isCanceled = MlNetInternals.CancellationCheck(env);
        // Every setting is checked here, when the pipeline is built, not after teachers were scored.
        StudentSpec(); // an unknown preset
        ArgumentNullException.ThrowIfNull(options.Trainer, nameof(options.Trainer));
        ArgumentNullException.ThrowIfNull(options.Distillation, nameof(options.Distillation));
        options.Trainer.Validate();
        options.Distillation.Validate();
        if (!(options.ValidationFraction is >= 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(options), options.ValidationFraction, "ValidationFraction must be in [0, 1).");
        if (options.ValidationSet is not null && options.ValidationFraction > 0)
            throw new ArgumentException("Give ValidationSet or ValidationFraction, not both: the validation rows come from one of them.", nameof(options));
        if (options.ConsistentTeaching && options.Teachers.Count == 0)
            throw new ArgumentException("ConsistentTeaching scores the teachers on every batch: set Teachers.", nameof(options));
        if (options.ConsistentTeaching && options.Distillation.OutOfBagTeachers)
            throw new ArgumentException("OutOfBagTeachers applies to logits scored once; ConsistentTeaching scores every augmented batch, which no teacher trained on.", nameof(options));
    }

    public StudentTransformer Fit(IDataView input)
    {
        if (isCanceled())
            throw new OperationCanceledException("MLContext.CancelExecution() was called before Fit; use a new MLContext to train again.");
        var (classCount, classNames) = KeyLabels.Classes(input.Schema, options.LabelColumnName);
        var scorers = new List<TeacherScoringTransformer>();
        try
        {
            if (LabelsOnly(input.Schema))
                return FitOnLabels(input, classCount, classNames);
            OnnxBatchTeachers? online = null;
            if (options.ConsistentTeaching)
            {
                if (options.Teachers.Count == 0)
                    throw new ArgumentException("ConsistentTeaching scores the teachers on every batch: set Teachers.");
                scorers.Add(new TeacherScoringEstimator(env, ScoringOptions(options.Teachers, options.TeacherLogitsColumnName)).Fit(input));
                online = new OnnxBatchTeachers(scorers[^1]);
            }
            else
            {
                input = ScoreOnTheFlyIfAsked(input, scorers);
            }
            var (dataset, teacherLogits, teacherCount, features) = ReadTrainingData(input, classCount, classNames, online?.TeacherCount);
            bool[]? inBag = options.Distillation.OutOfBagTeachers ? ReadInBag(input, teacherCount, required: true) : null;
            if (options.UnlabeledData is { } unlabeledView)
            {
                var unlabeled = online is null ? ScoreOnTheFlyIfAsked(unlabeledView, scorers) : unlabeledView;
                var (extra, extraLogits, extraTeachers, extraFeatures) = ReadTrainingData(unlabeled, classCount, classNames, online?.TeacherCount, labeled: false);
                if (extraTeachers != teacherCount)
                    throw new ArgumentException($"UnlabeledData has {extraTeachers} teachers' logits per row; the training data has {teacherCount}.", nameof(options));
                if (inBag is not null)
                    inBag = [.. inBag, .. ReadInBag(unlabeled, teacherCount, required: false) ?? new bool[(long)extra.Count * teacherCount]];
                dataset = dataset.Concat(extra);
                teacherLogits = [.. teacherLogits, .. extraLogits];
                features = features is null ? null : [.. features, .. extraFeatures!];
            }
            var (train, validation, trainLogits, trainFeatures, trainInBag) = SplitValidation(dataset, teacherLogits, teacherCount, features, inBag);
            validation = ReadValidationSet(classCount, classNames) ?? validation;

            var student = NetworkTrainer.CreateNetwork(StudentSpec(), train, options.Trainer.Seed,
                heads: options.Distillation.Mode == DistillationMode.MimicAll ? teacherCount : 1);
            var targets = new DistillationTargets(trainLogits, teacherCount, trainFeatures, online) { InBag = trainInBag };
            return Train(student, classNames, input.Schema, (trainer, progress, stop) =>
                NetworkTrainer.Distill(student, train, targets, trainer, options.Distillation, validation, progress, stop));
        }
        finally
        {
            foreach (var scorer in scorers) scorer.Dispose();
        }
    }

    // α = 1 weighs the teachers at nothing: with none given, this is the same student trained the standard way.
    private bool LabelsOnly(DataViewSchema schema) =>
        options.Distillation.Alpha == 1 && options.Teachers.Count == 0 && schema.GetColumnOrNull(options.TeacherLogitsColumnName) is null;

    // The baseline a distilled student is measured against: the same network, options and steps, cross-entropy on the labels.
    private StudentTransformer FitOnLabels(IDataView input, int classCount, string[] classNames)
    {
        var (dataset, _, _, _) = ReadTrainingData(input, classCount, classNames, onlineTeacherCount: 0);
        var (train, validation, _, _, _) = SplitValidation(dataset.LabeledOnly(), [], 0, null, null);
        validation = ReadValidationSet(classCount, classNames) ?? validation;
        var student = NetworkTrainer.CreateNetwork(StudentSpec(), train, options.Trainer.Seed);
        return Train(student, classNames, input.Schema, (trainer, progress, stop) =>
            NetworkTrainer.TrainSupervised(student, train, trainer, progress, stop, validation));
    }

    // Runs a training on the chosen device, reporting to ML.NET's log and stopping on CancelExecution, and wraps the student.
    private StudentTransformer Train(SequentialNetwork student, string[] classNames, DataViewSchema schema,
        Func<TrainerOptions, IProgress<TrainingProgress>, CancellationToken, IReadOnlyList<EpochSummary>> run)
    {
        using var channel = env.Start("MultiTeacherDistillation");
        using var stop = new CancellationTokenSource();
        var history = run(TrainerOptionsOnDevice(), new ChannelProgress(channel, options.Progress, isCanceled, stop), stop.Token);
        var (gpu, fallback) = Gpu();
        return StudentTransformer.Create(env, student, classNames, schema, options.FeatureColumnName, options.LabelColumnName, history, gpu, fallback);
    }

    // The options' GPU settings, else the MLContext's (MLContext.GpuDeviceId and FallbackToCpu), as ML.NET's own components take them.
    private (int? GpuDeviceId, bool FallbackToCpu) Gpu()
    {
        var (contextGpu, contextFallback) = MlNetInternals.GpuSettings(env);
        return (options.GpuDeviceId ?? contextGpu, options.FallbackToCpu ?? contextFallback);
    }

    private TeacherScoringEstimator.Options ScoringOptions(IReadOnlyList<TeacherModel> teachers, string outputColumnName)
    {
        var (gpu, fallback) = Gpu();
        return new TeacherScoringEstimator.Options
        {
            Teachers = teachers, InputColumnName = options.FeatureColumnName, OutputColumnName = outputColumnName, GpuDeviceId = gpu, FallbackToCpu = fallback,
        };
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
        var (validationClasses, _) = KeyLabels.Classes(view.Schema, options.LabelColumnName);
        if (validationClasses != classCount)
            throw new ArgumentException($"ValidationSet's label column '{options.LabelColumnName}' has {validationClasses} classes; the training data has {classCount}.", nameof(options));
        var (data, _, _, _) = ReadTrainingData(view, classCount, classNames, onlineTeacherCount: 0, featuresAndLabelsOnly: true);
        return data.LabeledOnly();
    }

    private NetworkSpec StudentSpec() => options.StudentNetwork ?? NetworkPresets.Get(options.Student, options.StudentWidth);

    // Teachers given in the options are scored here when the data has no logits column yet (and, for supernet2, no features column).
    private IDataView ScoreOnTheFlyIfAsked(IDataView input, List<TeacherScoringTransformer> scorers)
    {
        if (input.Schema.GetColumnOrNull(options.TeacherLogitsColumnName) is null && options.Teachers.Count > 0)
        {
            scorers.Add(new TeacherScoringEstimator(env, ScoringOptions(options.Teachers, options.TeacherLogitsColumnName)).Fit(input));
            input = scorers[^1].Transform(input);
        }
        if (options.Distillation.Mode == DistillationMode.Supernet2 && input.Schema.GetColumnOrNull(options.TeacherFeaturesColumnName) is null
            && options.TeacherFeaturesOutputName is { } featuresOutput && options.Teachers.Count > 0)
        {
            scorers.Add(new TeacherScoringEstimator(env, ScoringOptions(
                options.Teachers.Select(t => t with { OutputName = featuresOutput, OutputKind = TeacherOutputKind.Logits }).ToArray(),
                options.TeacherFeaturesColumnName)).Fit(input));
            input = scorers[^1].Transform(input);
        }
        return input;
    }

    // A seeded share of the labelled rows for validation; the rest, and every unlabelled row, trains.
    private (ImageDataset Train, ImageDataset? Validation, float[] Logits, float[]? Features, bool[]? InBag) SplitValidation(
        ImageDataset data, float[] logits, int teacherCount, float[]? features, bool[]? inBag)
    {
        double fraction = options.ValidationFraction > 0 ? options.ValidationFraction : options.Trainer.EarlyStoppingPatience is not null ? 0.1 : 0;
        if (fraction == 0)
            return (data, null, logits, features, inBag);
        int[] trainRows, validationRows;
        if (!data.HasUnlabeled)
            (trainRows, validationRows) = data.HoldOutRows(fraction, options.Trainer.Seed);
        else
        {
            var labeledRows = Enumerable.Range(0, data.Count).Where(i => data.Labels[i] != ImageDataset.Unlabeled).ToArray();
            validationRows = data.Subset(labeledRows).HoldOutRows(fraction, options.Trainer.Seed).ValidationRows.Select(i => labeledRows[i]).ToArray();
            var heldOut = validationRows.ToHashSet();
            trainRows = Enumerable.Range(0, data.Count).Where(i => !heldOut.Contains(i)).ToArray();
        }
        int width = teacherCount * data.ClassCount;
        T[] Rows<T>(T[] values, int rowWidth) => trainRows.SelectMany(r => values.AsSpan(r * rowWidth, rowWidth).ToArray()).ToArray();
        return (data.Subset(trainRows), data.Subset(validationRows), logits.Length == 0 ? logits : Rows(logits, width),
            features is null ? null : Rows(features, features.Length / data.Count), inBag is null ? null : Rows(inBag, teacherCount));
    }

    // The in-bag flags of every row, [rows, K]; null when the column is absent and not required.
    private bool[]? ReadInBag(IDataView input, int teacherCount, bool required)
    {
        var name = options.TeacherInBagColumnName;
        if (input.Schema.GetColumnOrNull(name) is not { } column)
            return required
                ? throw new ArgumentException($"OutOfBagTeachers needs column '{name}' (per teacher 1 where it trained on the row): load soft labels with LoadSoftLabels from a file that records the teachers' training rows (mtkd score of teachers from mtkd teachers).")
                : null;
        if (FloatVectorSize(column) != teacherCount)
            throw new ArgumentException($"Column '{name}' has {FloatVectorSize(column)} values per row; expected one per teacher ({teacherCount}).");
        var flags = VectorRows.Presized(input, teacherCount, $"'{name}'");
        using var cursor = input.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> row = default;
        while (cursor.MoveNext())
        {
            getter(ref row);
            VectorRows.Append(flags, row);
        }
        return flags.Select(v => v != 0).ToArray();
    }

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
        if (SchemaShapes.Find(inputSchema, options.LabelColumnName) is not { IsKey: true, Kind: SchemaShape.Column.VectorKind.Scalar })
            throw new ArgumentException($"Label column '{options.LabelColumnName}' must exist and be a scalar key (use MapValueToKey).", nameof(inputSchema));
        if (SchemaShapes.Find(inputSchema, options.FeatureColumnName)?.Kind != SchemaShape.Column.VectorKind.Vector)
            throw new ArgumentException($"Feature column '{options.FeatureColumnName}' must exist and be a known-size vector.", nameof(inputSchema));
        if (SchemaShapes.Find(inputSchema, options.TeacherLogitsColumnName) is null && options.Teachers.Count == 0 && options.Distillation.Alpha != 1)
            throw new ArgumentException($"Teacher logits column '{options.TeacherLogitsColumnName}' not found; add it with mlContext.Transforms.ScoreTeachers(...).", nameof(inputSchema));
        // A SchemaShape records kind and item type, not sizes or key counts, so placeholder sizes describe the columns.
        return SchemaShapes.With(inputSchema, b =>
        {
            b.AddColumn(StudentTransformer.LogitsColumnName, new VectorDataViewType(NumberDataViewType.Single, 1));
            b.AddColumn("Score", new VectorDataViewType(NumberDataViewType.Single, 1));
            b.AddColumn("PredictedLabel", new KeyDataViewType(typeof(uint), 1));
        });
    }

    // With online teachers there is no logits column to read: the teachers score each batch during training.
    // Key 0 (a missing label) becomes an unlabelled row; with labeled: false the view has no label column at all.
    private (ImageDataset Data, float[] TeacherLogits, int TeacherCount, float[]? Features) ReadTrainingData(IDataView input, int classCount, string[] classNames,
        int? onlineTeacherCount = null, bool labeled = true, bool featuresAndLabelsOnly = false)
    {
        var schema = input.Schema;
        var featureColumn = schema.GetColumnOrNull(options.FeatureColumnName)
            ?? throw new ArgumentException($"Feature column '{options.FeatureColumnName}' not found.");
        var teacherColumn = onlineTeacherCount is not null ? featureColumn : schema.GetColumnOrNull(options.TeacherLogitsColumnName)
            ?? throw new ArgumentException($"Teacher logits column '{options.TeacherLogitsColumnName}' not found; add it with mlContext.Transforms.ScoreTeachers(...), or set Teachers to score them here.");
        DataViewSchema.Column? teacherFeatures = null;
        if (options.Distillation.Mode == DistillationMode.Supernet2 && !featuresAndLabelsOnly)
            teacherFeatures = schema.GetColumnOrNull(options.TeacherFeaturesColumnName)
                ?? throw new ArgumentException($"supernet2 needs the teachers' penultimate features in column '{options.TeacherFeaturesColumnName}': score them with ScoreTeachers and the teachers' feature output (TeacherModel.OutputName), or set Teachers and TeacherFeaturesOutputName.");
        int featureSize = FloatVectorSize(featureColumn);
        int teacherWidth = onlineTeacherCount is { } online ? online * classCount : FloatVectorSize(teacherColumn);
        int teacherFeatureWidth = teacherFeatures is { } tf ? FloatVectorSize(tf) : 0;
        if (teacherWidth % classCount != 0)
            throw new ArgumentException($"Column '{teacherColumn.Name}' has {teacherWidth} values, not a whole number of teachers × {classCount} classes.");
        var (channels, height, width) = ImageShape(featureSize);

        using var pixels = PixelFileWriter.CreateTemporary(PixelElement.Float32, featureSize); // on disk: photographs do not fit in memory
        var labels = new List<int>();
        var logits = onlineTeacherCount is null ? VectorRows.Presized(input, teacherWidth, $"'{teacherColumn.Name}'") : [];
        var features = teacherFeatures is null ? null : VectorRows.Presized(input, teacherFeatureWidth, $"'{options.TeacherFeaturesColumnName}'");
        var labelColumn = labeled ? schema[options.LabelColumnName] : (DataViewSchema.Column?)null;
        var columns = new List<DataViewSchema.Column> { featureColumn, teacherColumn };
        if (labelColumn is { } l) columns.Add(l);
        if (teacherFeatures is { } f) columns.Add(f);
        using (var cursor = input.GetRowCursor(columns))
        {
            var getFeatures = cursor.GetGetter<VBuffer<float>>(featureColumn);
            var getTeachers = cursor.GetGetter<VBuffer<float>>(teacherColumn);
            var getTeacherFeatures = teacherFeatures is { } column ? cursor.GetGetter<VBuffer<float>>(column) : null;
            var getLabel = labelColumn is { } lc ? cursor.GetGetter<uint>(lc) : null;
            VBuffer<float> buffer = default;
            uint key = 0;
            while (cursor.MoveNext())
            {
                key = 0;
                getLabel?.Invoke(ref key);
                labels.Add(key == 0 ? ImageDataset.Unlabeled : (int)key - 1);
                getFeatures(ref buffer);
                VectorRows.Append(pixels, buffer);
                if (onlineTeacherCount is null)
                {
                    getTeachers(ref buffer);
                    VectorRows.Append(logits, buffer);
                }
                if (getTeacherFeatures is not null)
                {
                    getTeacherFeatures(ref buffer);
                    VectorRows.Append(features!, buffer);
                }
            }
        }
        if (labels.Count == 0)
            throw new ArgumentException(featuresAndLabelsOnly ? "ValidationSet has no rows." : labeled ? "The training data has no rows." : "UnlabeledData has no rows.");
        var data = new ImageDataset(pixels.ToTemporaryStore(), labels.ToArray(), channels, height, width, classNames);
        return (data, logits.ToArray(), teacherWidth / classCount, features?.ToArray());
    }

    private (int Channels, int Height, int Width) ImageShape(int featureSize)
    {
        if (options.ImageChannels > 0 && options.ImageHeight > 0 && options.ImageWidth > 0)
        {
            if (options.ImageChannels * options.ImageHeight * options.ImageWidth != featureSize)
                throw new ArgumentException($"Image shape {options.ImageChannels}x{options.ImageHeight}x{options.ImageWidth} does not match the {featureSize} values of column '{options.FeatureColumnName}'.");
            return (options.ImageChannels, options.ImageHeight, options.ImageWidth);
        }
        int side = (int)Math.Round(Math.Sqrt(featureSize));
        if (side * side != featureSize)
            throw new ArgumentException($"Column '{options.FeatureColumnName}' has {featureSize} values, not a square grey image; set ImageChannels, ImageHeight and ImageWidth.");
        return (1, side, side);
    }

    private static int FloatVectorSize(DataViewSchema.Column column) =>
        column.Type is VectorDataViewType { ItemType: NumberDataViewType n, Size: > 0 } v && n.RawType == typeof(float)
            ? v.Size
            : throw new ArgumentException($"Column '{column.Name}' is {column.Type}; expected a known-size vector of Single.");
}
