using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Mtkd.Training.Data;
using Mtkd.Training.Onnx.Proto;

namespace Mtkd.Training.Onnx;

/// <summary>
/// Runs a float model over calibration images in ONNX Runtime with chosen inner values as extra outputs, and returns
/// each value's range: min/max, or percentiles from a histogram filled in a second pass.
/// </summary>
internal static class ActivationCalibration
{
    private const int Bins = 4096;

    public static Dictionary<string, (float Min, float Max)> Ranges(ModelProto model, IReadOnlyCollection<string> values, ImageDataset calibration,
        QuantizationOptions options, string name)
    {
        var rows = ChooseRows(calibration, options.CalibrationImages);
        var probe = model.Clone();
        var input = model.Graph.Input[0];
        // The graph input's range comes from the pixels themselves; the inner values are added as outputs.
        var inner = values.Where(v => v != input.Name).ToArray();
        foreach (var value in inner)
            if (probe.Graph.Output.All(o => o.Name != value))
                probe.Graph.Output.Add(new ValueInfoProto { Name = value, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } } });
        int[] dims = ImageShape(input, calibration, name);

        using var session = new InferenceSession(probe.ToByteArray());
        var minMax = values.ToDictionary(v => v, _ => (Min: float.PositiveInfinity, Max: float.NegativeInfinity));
        Pass(session, input.Name, dims, calibration, rows, options.BatchSize, inner, values.Contains(input.Name), (value, data) =>
        {
            var (min, max) = minMax[value];
            foreach (var x in data)
            {
                if (x < min) min = x;
                if (x > max) max = x;
            }
            minMax[value] = (min, max);
        });
        if (options.Method == CalibrationMethod.MinMax)
            return minMax;

        var histograms = values.ToDictionary(v => v, _ => new long[Bins]);
        Pass(session, input.Name, dims, calibration, rows, options.BatchSize, inner, values.Contains(input.Name), (value, data) =>
        {
            var (min, max) = minMax[value];
            var counts = histograms[value];
            float width = (max - min) / Bins;
            if (!(width > 0)) { counts[0] += data.Length; return; }
            foreach (var x in data)
                counts[Math.Clamp((int)((x - min) / width), 0, Bins - 1)]++;
        });
        return values.ToDictionary(v => v, v => Percentiles(histograms[v], minMax[v].Min, minMax[v].Max, options.Percentile));
    }

    // Evenly spread over the set, so a set sorted by class still calibrates on every class.
    private static int[] ChooseRows(ImageDataset calibration, int wanted)
    {
        int n = Math.Min(wanted, calibration.Count);
        return Enumerable.Range(0, n).Select(i => (int)((long)i * calibration.Count / n)).ToArray();
    }

    private static int[] ImageShape(ValueInfoProto input, ImageDataset calibration, string name)
    {
        var modelDims = input.Type.TensorType.Shape.Dim.Skip(1).Select(d => d.DimValue).ToArray();
        int[] dataDims = modelDims.Length == 1 ? [calibration.ImageSize] : [calibration.Channels, calibration.Height, calibration.Width];
        if (modelDims.Length != dataDims.Length || modelDims.Zip(dataDims).Any(p => p.First > 0 && p.First != p.Second))
            throw new ArgumentException($"The calibration images are {string.Join("×", dataDims)}; {name} takes '{input.Name}' of " +
                $"{string.Join("×", modelDims.Select(d => d > 0 ? d.ToString() : "?"))}. Calibrate on images of the model's input size.");
        return dataDims;
    }

    private static void Pass(InferenceSession session, string inputName, int[] imageDims, ImageDataset calibration, int[] rows, int batchSize,
        string[] values, bool observeInput, Action<string, ReadOnlySpan<float>> observe)
    {
        int size = calibration.ImageSize;
        for (int start = 0; start < rows.Length; start += batchSize)
        {
            int count = Math.Min(batchSize, rows.Length - start);
            var pixels = new float[count * size];
            calibration.ReadImages(rows.AsSpan(start, count).ToArray().Select(r => (long)r).ToArray(), pixels);
            for (int i = 0; i < pixels.Length; i++)
                if (!float.IsFinite(pixels[i]))
                    throw new InvalidDataException($"Calibration image {rows[start + i / size]} holds a non-finite pixel value ({pixels[i]}): the calibration set is corrupt.");
            if (observeInput) observe(inputName, pixels);
            if (values.Length == 0) continue;
            var input = NamedOnnxValue.CreateFromTensor(inputName, new DenseTensor<float>(pixels, [count, .. imageDims]));
            using var results = session.Run([input], values);
            foreach (var result in results)
                observe(result.Name, ((DenseTensor<float>)result.AsTensor<float>()).Buffer.Span);
        }
    }

    private static (float Min, float Max) Percentiles(long[] counts, float min, float max, double percentile)
    {
        long total = counts.Sum();
        long clipped = (long)Math.Floor(total * (100 - percentile) / 100);
        float width = (max - min) / Bins;
        if (!(width > 0) || clipped == 0) return (min, max);
        int low = 0, high = Bins - 1;
        for (long seen = 0; low < Bins - 1 && seen + counts[low] <= clipped; low++) seen += counts[low];
        for (long seen = 0; high > 0 && seen + counts[high] <= clipped; high--) seen += counts[high];
        return (min + low * width, min + (high + 1) * width);
    }
}
