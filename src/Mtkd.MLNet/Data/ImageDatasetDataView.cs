using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.Training.Data;

namespace Mtkd.MLNet.Data;

/// <summary>Turns an in-memory <see cref="ImageDataset"/> into an ML.NET data view.</summary>
public static class ImageDatasetDataView
{
    private sealed class ImageRow
    {
        public float[] Features { get; set; } = [];
        public string Label { get; set; } = "";
    }

    private sealed class ClassRow
    {
        public string Label { get; set; } = "";
    }

    /// <summary>
    /// Columns <c>Features</c> (C×H×W floats, NCHW) and <c>Label</c>: a key whose values are the class names in
    /// class order, so key k+1 is class k.
    /// </summary>
    public static IDataView ToDataView(this ImageDataset data, MLContext mlContext)
    {
        var schema = SchemaDefinition.Create(typeof(ImageRow));
        schema[nameof(ImageRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, data.ImageSize);
        var rows = Enumerable.Range(0, data.Count).Select(i => new ImageRow
        {
            Features = data.Pixels.AsSpan(i * data.ImageSize, data.ImageSize).ToArray(),
            Label = data.ClassNames[data.Labels[i]],
        });
        var view = mlContext.Data.LoadFromEnumerable(rows, schema);
        var classOrder = mlContext.Data.LoadFromEnumerable(data.ClassNames.Select(n => new ClassRow { Label = n }));
        return mlContext.Transforms.Conversion.MapValueToKey(nameof(ImageRow.Label), keyData: classOrder)
            .Fit(view).Transform(view);
    }
}
