namespace Mtkd.Training.Onnx;

/// <summary>How an activation's int8 range is read from the calibration images.</summary>
public enum CalibrationMethod
{
    /// <summary>The smallest and largest value seen (with 0 inside the range): nothing clips on the calibration images.</summary>
    MinMax,

    /// <summary>
    /// The <see cref="QuantizationOptions.Percentile"/>-th percentile at each end: rare outliers clip, and the common
    /// values get finer steps.
    /// </summary>
    Percentile,
}

/// <summary>
/// Post-training static int8 quantization of an exported network (<see cref="OnnxQuantizer"/>): per-channel symmetric
/// int8 weights, per-tensor asymmetric uint8 activations whose ranges come from calibration images.
/// </summary>
public sealed class QuantizationOptions
{
    /// <summary>Calibration images read: this many spread evenly over the calibration set (all of them if it holds fewer). Default 300.</summary>
    public int CalibrationImages { get; set; } = 300;

    /// <summary>How activation ranges are set from the calibration images. Default <see cref="CalibrationMethod.MinMax"/>.</summary>
    public CalibrationMethod Method { get; set; } = CalibrationMethod.MinMax;

    /// <summary>With <see cref="CalibrationMethod.Percentile"/>: the share of values kept inside the range at each end, in percent. Default 99.99.</summary>
    public double Percentile { get; set; } = 99.99;

    /// <summary>
    /// Leaves the first convolution (the one reading the image) in float, its output quantized: ONNX Runtime then neither
    /// quantizes nor transposes the full-size input image, and its float kernels handle the few input channels better
    /// than the int8 ones. Faster on large images (the corrosion student: 186 against 284 µs per image at batch 1, one
    /// thread; 164 µs in float), at the cost of that layer's weights in float32. Default false.
    /// </summary>
    public bool FloatFirstConvolution { get; set; }

    /// <summary>Images per ONNX Runtime call while calibrating. Default 32.</summary>
    public int BatchSize { get; set; } = 32;

    internal void Check()
    {
        if (CalibrationImages < 1)
            throw new ArgumentOutOfRangeException(nameof(CalibrationImages), CalibrationImages, "Calibration needs at least one image (a few hundred is usual).");
        if (!(Percentile is > 50 and <= 100))
            throw new ArgumentOutOfRangeException(nameof(Percentile), Percentile, "The percentile is above 50 and at most 100 (99.99 keeps all but 1 value in 10,000 at each end).");
        if (BatchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "The batch size is positive.");
        if (!Enum.IsDefined(Method))
            throw new ArgumentOutOfRangeException(nameof(Method), Method, $"Expected one of: {string.Join(", ", Enum.GetNames<CalibrationMethod>())}.");
    }
}
