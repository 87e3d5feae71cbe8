using Microsoft.ML;
using Microsoft.ML.Transforms.Image;
using Mtkd.MLNet.Data;
using Mtkd.Training.Data;

namespace Mtkd.Samples.Images;

/// <summary>A row of the image list the pipeline starts from.</summary>
public sealed class ImageInput
{
    public string ImagePath { get; set; } = "";
    public string Label { get; set; } = "";
}

/// <summary>The ML.NET side of the samples: image files to pixel vectors, and class names to a key or Boolean label.</summary>
public static class ImagePipeline
{
    /// <summary>
    /// LoadImages → ResizeImages (stretched to <paramref name="height"/>×<paramref name="width"/>, as <see cref="ImageCheck"/>
    /// allows only small distortions) → ExtractPixels (planar RGB scaled to [0, 1], so the vector is C×H×W as the
    /// networks expect). This is the part of the saved model that runs before the student.
    /// </summary>
    public static IEstimator<ITransformer> Featurizer(MLContext ml, int height, int width) =>
        ml.Transforms.LoadImages("Image", imageFolder: "", inputColumnName: nameof(ImageInput.ImagePath))
            .Append(ml.Transforms.ResizeImages("Image", width, height, resizing: ImageResizingEstimator.ResizingKind.Fill))
            .Append(ml.Transforms.ExtractPixels("Features", "Image", scaleImage: 1f / 255));

    /// <summary>The class names as a key label whose key k+1 is <paramref name="classes"/>[k], whatever order the rows come in.</summary>
    public static IEstimator<ITransformer> LabelToKey(MLContext ml, IReadOnlyList<string> classes) =>
        ml.Transforms.Conversion.MapValueToKey("Label", keyData: ml.Data.LoadFromEnumerable(classes.Select(c => new ClassName { Label = c })));

    /// <summary>
    /// The key label of two classes as the Boolean label a binary trainer reads: true for <paramref name="positiveClass"/>,
    /// false for <paramref name="negativeClass"/> (stock ML.NET: MapKeyToValue, then MapValue).
    /// </summary>
    public static IEstimator<ITransformer> BooleanLabel(MLContext ml, string negativeClass, string positiveClass) =>
        ml.Transforms.Conversion.MapKeyToValue("ClassName", "Label")
            .Append(ml.Transforms.Conversion.MapValue("Label", new Dictionary<string, bool> { [negativeClass] = false, [positiveClass] = true }, "ClassName"));

    private sealed class ClassName
    {
        public string Label { get; set; } = "";
    }

    public static IDataView Rows(MLContext ml, IEnumerable<LabelledImage> images) =>
        ml.Data.LoadFromEnumerable(images.Select(i => new ImageInput { ImagePath = Path.GetFullPath(i.Path), Label = i.Label }).ToArray());
}
