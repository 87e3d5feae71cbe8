using Microsoft.ML;
using Mtkd.MLNet.Data;
using Mtkd.Training.Data;

namespace Mtkd.MLNet.Tests.Data;

/// <summary>In-memory images to an ML.NET data view and back.</summary>
public sealed class ImageDatasetExtensionsTests
{
    private static readonly ImageDataset Images = new(
        Enumerable.Range(0, 3 * 2 * 2 * 3).Select(i => i / 36f).ToArray(), [2, 0, 1], channels: 2, height: 2, width: 3, ["cat", "dog", "eel"]);

    [Fact]
    public void A_data_view_made_from_a_dataset_reads_back_the_same_pixels_labels_and_class_names()
    {
        var back = Images.ToDataView(new MLContext()).ToImageDataset(2, 2, 3);
        Assert.Equal(Images.ReadAllPixels(), back.ReadAllPixels());
        Assert.Equal(Images.Labels, back.Labels);
        Assert.Equal(Images.ClassNames, back.ClassNames);
        Assert.Equal((2, 2, 3), (back.Channels, back.Height, back.Width));
    }

    [Fact]
    public void A_shape_that_does_not_match_the_feature_column_is_refused_by_name()
    {
        var view = Images.ToDataView(new MLContext());
        var e = Assert.Throws<ArgumentException>(() => view.ToImageDataset(3, 2, 3));
        Assert.Contains("'Features'", e.Message);
        Assert.Contains("18 Single values (3x2x3)", e.Message);
        var label = Assert.Throws<ArgumentException>(() => view.ToImageDataset(2, 2, 3, labelColumnName: "Class"));
        Assert.Contains("'Class' not found", label.Message);
    }
}
