using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Mtkd.MLNet.Internal;
using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Training;

namespace Mtkd.MLNet.Distillation;

/// <summary>
/// Trains a compact student network from the teachers' logits (the output-averaging loss of
/// <see cref="DistillationLoss"/>) and returns it as an ML.NET model with <c>Score</c> and <c>PredictedLabel</c>.
/// </summary>
public sealed class MultiTeacherDistillationTrainer : IEstimator<StudentTransformer>
{
    private readonly IHostEnvironment env;
    private readonly MultiTeacherDistillationOptions options;

    internal MultiTeacherDistillationTrainer(IHostEnvironment env, MultiTeacherDistillationOptions options)
    {
        this.env = env;
        this.options = options;
        NetworkPresets.Get(options.Student); // fail early on an unknown preset
    }

    public StudentTransformer Fit(IDataView input)
    {
        var (classCount, classNames) = LabelClasses(input.Schema);
        var (dataset, teacherLogits, teacherCount) = ReadTrainingData(input, classCount, classNames);

        var student = NetworkTrainer.CreateNetwork(NetworkPresets.Get(options.Student), dataset, options.Seed);
        var history = NetworkTrainer.Distill(student, dataset, teacherLogits, teacherCount,
            new TrainerOptions { Epochs = options.Epochs, BatchSize = options.BatchSize, LearningRate = options.LearningRate, Seed = options.Seed },
            new DistillationOptions { Temperature = options.Temperature, Alpha = options.Alpha },
            options.Progress);

        return StudentTransformer.Create(env, student, classNames, input.Schema, options.FeatureColumnName, options.LabelColumnName, history);
    }

    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        if (SchemaShapes.Find(inputSchema, options.LabelColumnName) is not { IsKey: true, Kind: SchemaShape.Column.VectorKind.Scalar })
            throw new ArgumentException($"Label column '{options.LabelColumnName}' must exist and be a scalar key (use MapValueToKey).", nameof(inputSchema));
        if (SchemaShapes.Find(inputSchema, options.FeatureColumnName)?.Kind != SchemaShape.Column.VectorKind.Vector)
            throw new ArgumentException($"Feature column '{options.FeatureColumnName}' must exist and be a known-size vector.", nameof(inputSchema));
        if (SchemaShapes.Find(inputSchema, options.TeacherLogitsColumnName) is null)
            throw new ArgumentException($"Teacher logits column '{options.TeacherLogitsColumnName}' not found; add it with mlContext.Transforms.ScoreTeachers(...).", nameof(inputSchema));
        // A SchemaShape records kind and item type, not sizes or key counts, so placeholder sizes describe the columns.
        return SchemaShapes.With(inputSchema, b =>
        {
            b.AddColumn(StudentTransformer.LogitsColumnName, new VectorDataViewType(NumberDataViewType.Single, 1));
            b.AddColumn("Score", new VectorDataViewType(NumberDataViewType.Single, 1));
            b.AddColumn("PredictedLabel", new KeyDataViewType(typeof(uint), 1));
        });
    }

    private (int Count, string[] Names) LabelClasses(DataViewSchema schema)
    {
        var label = schema.GetColumnOrNull(options.LabelColumnName)
            ?? throw new ArgumentException($"Label column '{options.LabelColumnName}' not found; it must be a key type (use MapValueToKey).");
        if (label.Type is not KeyDataViewType key || key.Count is 0 or > int.MaxValue || key.RawType != typeof(uint))
            throw new ArgumentException($"Label column '{options.LabelColumnName}' is {label.Type}; expected a UInt32 key type with a known count (use MapValueToKey).");
        int count = (int)key.Count;
        var names = Enumerable.Range(0, count).Select(i => i.ToString()).ToArray();
        if (label.Annotations.Schema.GetColumnOrNull("KeyValues")?.Type is VectorDataViewType { ItemType: TextDataViewType })
        {
            VBuffer<ReadOnlyMemory<char>> values = default;
            label.GetKeyValues(ref values);
            names = values.DenseValues().Select(v => v.ToString()).ToArray();
        }
        return (count, names);
    }

    private (ImageDataset Data, float[] TeacherLogits, int TeacherCount) ReadTrainingData(IDataView input, int classCount, string[] classNames)
    {
        var schema = input.Schema;
        var featureColumn = schema.GetColumnOrNull(options.FeatureColumnName)
            ?? throw new ArgumentException($"Feature column '{options.FeatureColumnName}' not found.");
        var teacherColumn = schema.GetColumnOrNull(options.TeacherLogitsColumnName)
            ?? throw new ArgumentException($"Teacher logits column '{options.TeacherLogitsColumnName}' not found; add it with mlContext.Transforms.ScoreTeachers(...).");
        int featureSize = FloatVectorSize(featureColumn);
        int teacherWidth = FloatVectorSize(teacherColumn);
        if (teacherWidth % classCount != 0)
            throw new ArgumentException($"Column '{teacherColumn.Name}' has {teacherWidth} values, not a whole number of teachers × {classCount} classes.");
        var (channels, height, width) = ImageShape(featureSize);

        var pixels = new List<float>();
        var labels = new List<int>();
        var logits = new List<float>();
        var labelColumn = schema[options.LabelColumnName];
        using (var cursor = input.GetRowCursor([featureColumn, labelColumn, teacherColumn]))
        {
            var getFeatures = cursor.GetGetter<VBuffer<float>>(featureColumn);
            var getTeachers = cursor.GetGetter<VBuffer<float>>(teacherColumn);
            var getLabel = cursor.GetGetter<uint>(labelColumn);
            VBuffer<float> buffer = default;
            uint key = 0;
            while (cursor.MoveNext())
            {
                getLabel(ref key);
                if (key == 0)
                    throw new InvalidDataException($"Row {cursor.Position}: label column '{labelColumn.Name}' is missing (key value 0).");
                labels.Add((int)key - 1);
                getFeatures(ref buffer);
                pixels.AddRange(buffer.DenseValues());
                getTeachers(ref buffer);
                logits.AddRange(buffer.DenseValues());
            }
        }
        if (labels.Count == 0)
            throw new ArgumentException("The training data has no rows.");
        var data = new ImageDataset(pixels.ToArray(), labels.ToArray(), channels, height, width, classNames);
        return (data, logits.ToArray(), teacherWidth / classCount);
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
