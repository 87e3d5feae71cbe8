using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet.Internal;
using Mtkd.Training.Data;

namespace Mtkd.MLNet.Data;

/// <summary>Turns an in-memory <see cref="ImageDataset"/> into an ML.NET data view.</summary>
public static class ImageDatasetDataView
{
    /// <summary>
    /// Columns <c>Features</c> (C×H×W floats, NCHW) and <c>Label</c>: a key whose values are the class names in
    /// class order, so key k+1 is class k. Rows are read straight from the dataset's arrays.
    /// </summary>
    public static IDataView ToDataView(this ImageDataset data, MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("Features", new VectorDataViewType(NumberDataViewType.Single, data.ImageSize));
        var keyValues = new DataViewSchema.Annotations.Builder();
        ArrayDataView.AddText(keyValues, "KeyValues", data.ClassNames);
        builder.AddColumn("Label", new KeyDataViewType(typeof(uint), data.ClassCount), keyValues.ToAnnotations());
        return new ArrayDataView(builder.ToSchema(), data.Count, [ArrayDataView.Vectors(data.Pixels, data.ImageSize), ArrayDataView.Keys(data.Labels)]);
    }
}
