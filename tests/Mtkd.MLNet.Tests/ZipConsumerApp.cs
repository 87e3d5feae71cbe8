using Microsoft.ML;
using Mtkd.Training.Data;

namespace Mtkd.MLNet.Tests;

/// <summary>
/// Runs <c>tests/ZipConsumer</c>, an app that references only Microsoft.ML, Microsoft.ML.OnnxTransformer and ONNX
/// Runtime, on a saved model: what an app that loads a fitted model without Mtkd would predict.
/// </summary>
internal static class ZipConsumerApp
{
    /// <summary>
    /// Saves <paramref name="model"/> in a new folder under <paramref name="root"/>, runs the app on
    /// <paramref name="images"/> and returns its line per image, split at spaces (the predicted label, then the scores);
    /// asserts that the app succeeded and loaded nothing of Mtkd.
    /// </summary>
    public static string[][] Predict(MLContext ml, ITransformer model, DataViewSchema inputSchema, ImageDataset images, string root)
    {
        var folder = Directory.CreateDirectory(Path.Combine(root, $"consumer-{Guid.NewGuid():N}")).FullName;
        ml.Model.Save(model, inputSchema, Path.Combine(folder, "model.zip"));
        File.WriteAllBytes(Path.Combine(folder, "features.bin"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(images.ReadAllPixels().AsSpan()).ToArray());

        var (code, errors) = SampleProcess.Run(Path.Combine("tests", "ZipConsumer"), "ZipConsumer", Path.Combine(folder, "model.zip"),
            Path.Combine(folder, "features.bin"), images.ImageSize.ToString(System.Globalization.CultureInfo.InvariantCulture), Path.Combine(folder, "out.txt"));
        Assert.True(code == 0, errors);
        var lines = File.ReadAllLines(Path.Combine(folder, "out.txt"));
        Assert.Equal("mtkd-assemblies: ", lines[0]); // nothing of Mtkd was loaded
        return lines.Skip(1).Select(l => l.Split(' ')).ToArray();
    }
}
