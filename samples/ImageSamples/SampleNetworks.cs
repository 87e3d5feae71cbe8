using Mtkd.Training.Networks;

namespace Mtkd.Samples.Images;

/// <summary>
/// Networks for photographs of a few hundred pixels a side. Both start with a strided "patchify" convolution (4×4,
/// stride 4) so that the expensive layers work at a sixteenth of the pixels, and end in global average pooling, so a
/// local defect anywhere in the frame reaches the classifier.
/// </summary>
public static class SampleNetworks
{
    /// <summary>The teacher: stem of w channels, then conv blocks of 2w, 4w, 4w (the first two pooled), pooling, linear.</summary>
    public static NetworkSpec Teacher(int width) => new($"teacher-w{width}",
    [
        new Conv2dLayer(width, Kernel: 4, Stride: 4, Padding: 0), new BatchNorm2dLayer(), new ReluLayer(),
        new Conv2dLayer(2 * width), new BatchNorm2dLayer(), new ReluLayer(), new MaxPool2dLayer(),
        new Conv2dLayer(4 * width), new BatchNorm2dLayer(), new ReluLayer(), new MaxPool2dLayer(),
        new Conv2dLayer(4 * width), new BatchNorm2dLayer(), new ReluLayer(),
        new GlobalAveragePoolLayer(), new LinearLayer(),
    ]);

    /// <summary>The student: stem of w channels, then conv blocks of w, 2w (both pooled) and 2w, pooling, linear.</summary>
    public static NetworkSpec Student(int width) => new($"student-w{width}",
    [
        new Conv2dLayer(width, Kernel: 4, Stride: 4, Padding: 0), new BatchNorm2dLayer(), new ReluLayer(),
        new Conv2dLayer(width), new BatchNorm2dLayer(), new ReluLayer(), new MaxPool2dLayer(),
        new Conv2dLayer(2 * width), new BatchNorm2dLayer(), new ReluLayer(), new MaxPool2dLayer(),
        new Conv2dLayer(2 * width), new BatchNorm2dLayer(), new ReluLayer(),
        new GlobalAveragePoolLayer(), new LinearLayer(),
    ]);
}
