namespace Mtkd.Training.Networks;

/// <summary>Named architectures. The teacher is the larger network of the ensemble; the student is what gets distilled.</summary>
public static class NetworkPresets
{
    /// <summary>Two conv blocks of 16 and 32 channels with batch norm and a 64-unit hidden layer (about 110k parameters on 28×28).</summary>
    public const string TeacherCnn = "teacher-cnn";

    /// <summary>Two conv blocks of 8 and 16 channels, straight to the classes (about 9k parameters on 28×28).</summary>
    public const string CnnSmall = "cnn-small";

    public static IReadOnlyList<string> Names { get; } = [TeacherCnn, CnnSmall];

    public static NetworkSpec Get(string name) => name switch
    {
        TeacherCnn => new NetworkSpec(TeacherCnn,
        [
            new Conv2dLayer(16), new BatchNorm2dLayer(), new ReluLayer(), new MaxPool2dLayer(),
            new Conv2dLayer(32), new BatchNorm2dLayer(), new ReluLayer(), new MaxPool2dLayer(),
            new FlattenLayer(), new LinearLayer(64), new ReluLayer(), new DropoutLayer(0.25), new LinearLayer(),
        ]),
        CnnSmall => new NetworkSpec(CnnSmall,
        [
            new Conv2dLayer(8), new BatchNorm2dLayer(), new ReluLayer(), new MaxPool2dLayer(),
            new Conv2dLayer(16), new BatchNorm2dLayer(), new ReluLayer(), new MaxPool2dLayer(),
            new FlattenLayer(), new LinearLayer(),
        ]),
        _ => throw new ArgumentException($"Unknown network preset '{name}'; expected one of: {string.Join(", ", Names)}.", nameof(name)),
    };
}
