namespace Mtkd.Training.Networks;

/// <summary>
/// Named architectures. The teacher is the larger network of the ensemble; the others are students. Each takes
/// any C×H×W input (the ResNets and MobileNet end in global average pooling, so their size does not depend on it).
/// </summary>
public static class NetworkPresets
{
    /// <summary>Two conv blocks of 16 and 32 channels with batch norm and a 64-unit hidden layer (about 110k parameters on 28×28).</summary>
    public const string TeacherCnn = "teacher-cnn";

    /// <summary>Two conv blocks of w and 2w channels (w = 8 by default), straight to the classes (about 9k parameters on 28×28).</summary>
    public const string CnnSmall = "cnn-small";

    /// <summary>ResNet-8 for small images: a 3×3 conv of w channels (16 by default), one basic block per stage at w, 2w, 4w (stride 2 between stages), pooling, linear.</summary>
    public const string ResNet8 = "resnet8";

    /// <summary>ResNet-20 (He et al. 2016, CIFAR variant): as <see cref="ResNet8"/> with three basic blocks per stage.</summary>
    public const string ResNet20 = "resnet20";

    /// <summary>A small MobileNet: a 3×3 conv of w channels (16 by default), four depthwise-separable blocks (2w, 2w s2, 4w, 4w s2), pooling, linear.</summary>
    public const string MobileNetTiny = "mobilenet-tiny";

    /// <summary>
    /// A multilayer perceptron for feature vectors (tabular features, embeddings; any input, flattened): hidden layers
    /// of 2w and w units (w = 64 by default), each Linear → BatchNorm1d → ReLU → Dropout 0.1, then the classes.
    /// <see cref="Mlp"/> takes other sizes and dropout.
    /// </summary>
    public const string MlpPreset = "mlp";

    public static IReadOnlyList<string> Names { get; } = [TeacherCnn, CnnSmall, ResNet8, ResNet20, MobileNetTiny, MlpPreset];

    /// <summary>
    /// An MLP of <paramref name="hiddenSizes"/> (Linear → BatchNorm1d → ReLU → Dropout per hidden layer, then a Linear to
    /// the classes), for feature vectors. Its ONNX export takes [batch, F] when the data's "images" are F×1×1.
    /// </summary>
    /// <param name="hiddenSizes">Units of each hidden layer (none: a linear classifier).</param>
    /// <param name="dropout">Dropout after each hidden layer, in [0, 1) (0: none).</param>
    /// <param name="batchNorm">Whether each hidden layer has batch normalization.</param>
    public static NetworkSpec Mlp(IReadOnlyList<int> hiddenSizes, double dropout = 0.1, bool batchNorm = true)
    {
        ArgumentNullException.ThrowIfNull(hiddenSizes);
        if (hiddenSizes.Any(h => h < 1)) throw new ArgumentOutOfRangeException(nameof(hiddenSizes), $"Hidden sizes must be positive; got {string.Join(", ", hiddenSizes)}.");
        if (!(dropout is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "Dropout must be in [0, 1).");
        var layers = new List<LayerSpec> { new FlattenLayer() };
        foreach (int units in hiddenSizes)
        {
            layers.Add(new LinearLayer(units));
            if (batchNorm) layers.Add(new BatchNorm1dLayer());
            layers.Add(new ReluLayer());
            if (dropout > 0) layers.Add(new DropoutLayer(dropout));
        }
        layers.Add(new LinearLayer());
        return new NetworkSpec(MlpPreset, layers);
    }

    /// <summary>The preset's spec; <paramref name="width"/> sets its base channel count (null: the preset's default).</summary>
    public static NetworkSpec Get(string name, int? width = null)
    {
        if (width is < 1)
            throw new ArgumentOutOfRangeException(nameof(width), width, "Width must be positive.");
        return name switch
        {
            TeacherCnn => new NetworkSpec(TeacherCnn,
            [
                new Conv2dLayer(W(16)), new BatchNorm2dLayer(), new ReluLayer(), new MaxPool2dLayer(),
                new Conv2dLayer(W(32)), new BatchNorm2dLayer(), new ReluLayer(), new MaxPool2dLayer(),
                new FlattenLayer(), new LinearLayer(W(64)), new ReluLayer(), new DropoutLayer(0.25), new LinearLayer(),
            ]),
            CnnSmall => new NetworkSpec(CnnSmall,
            [
                new Conv2dLayer(W(8)), new BatchNorm2dLayer(), new ReluLayer(), new MaxPool2dLayer(),
                new Conv2dLayer(W(16)), new BatchNorm2dLayer(), new ReluLayer(), new MaxPool2dLayer(),
                new FlattenLayer(), new LinearLayer(),
            ]),
            ResNet8 => ResNet(ResNet8, blocksPerStage: 1, W(16)),
            ResNet20 => ResNet(ResNet20, blocksPerStage: 3, W(16)),
            MobileNetTiny => new NetworkSpec(MobileNetTiny,
            [
                new Conv2dLayer(W(16)), new BatchNorm2dLayer(), new ReluLayer(),
                new DepthwiseSeparableLayer(W(32)), new DepthwiseSeparableLayer(W(32), Stride: 2),
                new DepthwiseSeparableLayer(W(64)), new DepthwiseSeparableLayer(W(64), Stride: 2),
                new GlobalAveragePoolLayer(), new LinearLayer(),
            ]),
            MlpPreset => Mlp([W(128), W(64)]),
            _ => throw new ArgumentException($"Unknown network preset '{name}'; expected one of: {string.Join(", ", Names)}.", nameof(name)),
        };

        // Scales the preset's default channel counts so that its base width becomes `width`.
        int W(int channels)
        {
            int defaultBase = name switch { CnnSmall => 8, MlpPreset => 64, _ => 16 };
            return width is { } w ? Math.Max(1, channels * w / defaultBase) : channels;
        }
    }

    private static NetworkSpec ResNet(string name, int blocksPerStage, int width)
    {
        var layers = new List<LayerSpec> { new Conv2dLayer(width), new BatchNorm2dLayer(), new ReluLayer() };
        for (int stage = 0; stage < 3; stage++)
            for (int block = 0; block < blocksPerStage; block++)
                layers.Add(new ResidualBlockLayer(width << stage, Stride: stage > 0 && block == 0 ? 2 : 1));
        layers.Add(new GlobalAveragePoolLayer());
        layers.Add(new LinearLayer());
        return new NetworkSpec(name, layers);
    }
}
