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
        int size = channels * height * width;
        var features = data.Schema.GetColumnOrNull(featureColumnName)
            ?? throw new ArgumentException($"Feature column '{featureColumnName}' not found.", nameof(featureColumnName));
        if (features.Type is not VectorDataViewType { ItemType: NumberDataViewType n } vector || n.RawType != typeof(float) || vector.Size != size)
            throw new ArgumentException($"Column '{featureColumnName}' is {features.Type}; expected a vector of {size} Single values ({channels}x{height}x{width}).",
                nameof(featureColumnName));
        var (_, classNames) = KeyLabels.Classes(data.Schema, labelColumnName);
        var label = data.Schema[labelColumnName];

        using var pixels = PixelFileWriter.CreateTemporary(PixelElement.Float32, size);
        var labels = new List<int>();
        using var cursor = data.GetRowCursor([features, label]);
        var getFeatures = cursor.GetGetter<VBuffer<float>>(features);
        var getLabel = cursor.GetGetter<uint>(label);
        VBuffer<float> buffer = default;
        uint value = 0;
        while (cursor.MoveNext())
        {
            getLabel(ref value);
            if (value == 0)
                throw new InvalidDataException($"Row {cursor.Position}: label column '{labelColumnName}' is missing (key value 0).");
            labels.Add((int)value - 1);
            getFeatures(ref buffer);
            VectorRows.Append(pixels, buffer);
        }
        return new ImageDataset(pixels.ToTemporaryStore(), labels.ToArray(), channels, height, width, classNames);
    }
}
