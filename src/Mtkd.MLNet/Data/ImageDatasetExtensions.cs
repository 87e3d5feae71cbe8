using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet.Internal;
using Mtkd.Training.Data;

namespace Mtkd.MLNet.Data;

/// <summary>Moves images between an in-memory <see cref="ImageDataset"/> and an ML.NET data view.</summary>
public static class ImageDatasetExtensions
{
    /// <summary>
    /// Columns <c>Features</c> (C×H×W floats, NCHW) and <c>Label</c>: a key whose values are the class names in
    /// class order, so key k+1 is class k. Rows are read from the dataset's store as the cursor reaches them.
    /// </summary>
    public static IDataView ToDataView(this ImageDataset data, MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("Features", new VectorDataViewType(NumberDataViewType.Single, data.ImageSize));
        var keyValues = new DataViewSchema.Annotations.Builder();
        ArrayDataView.AddText(keyValues, "KeyValues", data.ClassNames);
        builder.AddColumn("Label", new KeyDataViewType(typeof(uint), data.ClassCount), keyValues.ToAnnotations());
        return new ArrayDataView(builder.ToSchema(), data.Count, [ArrayDataView.Images(data), ArrayDataView.Keys(data.Labels)]);
    }

    /// <summary>
    /// Reads a data view's pixels and key label, for training teachers with Mtkd.Training: for example the
    /// output of LoadImages → ResizeImages → ExtractPixels (planar, so the values are C×H×W) after MapValueToKey.
    /// The class names are the label's key values. The pixels stream into a temporary file on disk (removed with the
    /// dataset), so a view of photographs costs a row of memory, not the dataset.
    /// </summary>
    public static ImageDataset ToImageDataset(this IDataView data, int channels, int height, int width,
        string featureColumnName = "Features", string labelColumnName = "Label")
    {
        ArgumentNullException.ThrowIfNull(data);
        var (_, classNames) = KeyLabels.Classes(data.Schema, labelColumnName);
        return Read(data, featureColumnName, labelColumnName, missingLabel: MissingLabel.Refuse, channels, height, width, classNames, [], "The data");
    }

    /// <summary>What a row whose key label is missing (0) is: refused, or an image without a label.</summary>
    internal enum MissingLabel { Refuse, Unlabeled }

    /// <summary>
    /// The one reader of a data view into an <see cref="ImageDataset"/>: the feature column as C×H×W pixels (streamed to
    /// a temporary file), the key label (none when <paramref name="labelColumnName"/> is null) and float vector columns
    /// carried as the dataset's columns (<c>As</c>, for example <see cref="TeacherColumns.Logits"/>).
    /// </summary>
    internal static ImageDataset Read(IDataView data, string featureColumnName, string? labelColumnName, MissingLabel missingLabel,
        int channels, int height, int width, IReadOnlyList<string> classNames, IReadOnlyList<(string Column, string As)> columns, string what)
    {
        int size = channels * height * width;
        var schema = data.Schema;
        var features = schema.GetColumnOrNull(featureColumnName)
            ?? throw new ArgumentException($"Feature column '{featureColumnName}' not found.", nameof(featureColumnName));
        if (features.Type is not VectorDataViewType { ItemType: NumberDataViewType n } vector || n.RawType != typeof(float) || vector.Size != size)
            throw new ArgumentException($"Column '{featureColumnName}' is {features.Type}; expected a vector of {size} Single values ({channels}x{height}x{width}).",
                nameof(featureColumnName));
        var extra = columns.Select(c => schema.GetColumnOrNull(c.Column) ?? throw new ArgumentException($"Column '{c.Column}' not found.")).ToArray();
        var widths = extra.Select(FloatVectorSize).ToArray();
        var label = labelColumnName is null ? (DataViewSchema.Column?)null : schema[labelColumnName];

        using var pixels = PixelFileWriter.CreateTemporary(PixelElement.Float32, size); // on disk: photographs do not fit in memory
        var labels = new List<int>();
        var values = extra.Select((c, i) => VectorRows.Presized(data, widths[i], $"'{c.Name}'")).ToArray();
        using (var cursor = data.GetRowCursor([features, .. extra, .. label is { } l ? new[] { l } : []]))
        {
            var getFeatures = cursor.GetGetter<VBuffer<float>>(features);
            var getters = extra.Select(c => cursor.GetGetter<VBuffer<float>>(c)).ToArray();
            var getLabel = label is { } lc ? KeyGetter(cursor, lc) : null;
            VBuffer<float> buffer = default;
            uint key = 0;
            while (cursor.MoveNext())
            {
                key = 0;
                getLabel?.Invoke(ref key);
                if (key == 0 && getLabel is not null && missingLabel == MissingLabel.Refuse)
                    throw new InvalidDataException($"Row {cursor.Position}: label column '{labelColumnName}' is missing (key value 0).");
                labels.Add(key == 0 ? ImageDataset.Unlabeled : (int)key - 1);
                getFeatures(ref buffer);
                VectorRows.Append(pixels, buffer);
                for (int i = 0; i < getters.Length; i++)
                {
                    getters[i](ref buffer);
                    VectorRows.Append(values[i], buffer);
                }
            }
        }
        if (labels.Count == 0)
            throw new ArgumentException($"{what} has no rows.");
        var result = new ImageDataset(pixels.ToTemporaryStore(), labels.ToArray(), channels, height, width, classNames);
        for (int i = 0; i < columns.Count; i++)
            result = result.WithColumn(columns[i].As, values[i].ToArray(), widths[i]);
        return result;
    }

    // A key label as it is; a Boolean one (the binary trainer's) as the key of class 0 (false) or 1 (true).
    private static ValueGetter<uint> KeyGetter(DataViewRowCursor cursor, DataViewSchema.Column label)
    {
        if (label.Type is not BooleanDataViewType)
            return cursor.GetGetter<uint>(label);
        var getBool = cursor.GetGetter<bool>(label);
        bool value = false;
        return (ref uint key) =>
        {
            getBool(ref value);
            key = value ? 2u : 1u;
        };
    }

    /// <summary>The size of a known-size Single vector column; anything else is refused naming it.</summary>
    internal static int FloatVectorSize(DataViewSchema.Column column) =>
        column.Type is VectorDataViewType { ItemType: NumberDataViewType n, Size: > 0 } v && n.RawType == typeof(float)
            ? v.Size
            : throw new ArgumentException($"Column '{column.Name}' is {column.Type}; expected a known-size vector of Single.");
}
