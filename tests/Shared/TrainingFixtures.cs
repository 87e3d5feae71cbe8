using Mtkd.Training.Data;
using Mtkd.Training.Networks;
using Mtkd.Training.Engine;
using static TorchSharp.torch;

namespace Mtkd.Tests;

/// <summary>Small real Fashion-MNIST sets, and synthetic teacher logits (labelled as such) for the training-mechanics tests.</summary>
internal static class TrainingFixtures
{
    private static readonly Lazy<ImageDataset> TrainSet = new(() => FashionMnist.Load(DataSplit.Train).Take(400));
    private static readonly Lazy<ImageDataset> ValidationSet = new(() => FashionMnist.Load(DataSplit.Test).Take(200));

    public static ImageDataset Train => TrainSet.Value;
    public static ImageDataset Validation => ValidationSet.Value;

    /// <summary>Synthetic teachers: a bump of <paramref name="strength"/> on the true class plus noise; teacher k is noisier as k grows.</summary>
    public static float[] SyntheticTeacherLogits(ImageDataset data, int teachers, double strength = 3, int seed = 9)
    {
        var random = new Random(seed);
        var logits = new float[data.Count * teachers * data.ClassCount];
        for (int i = 0; i < data.Count; i++)
            for (int k = 0; k < teachers; k++)
                for (int c = 0; c < data.ClassCount; c++)
                    logits[(i * teachers + k) * data.ClassCount + c] =
                        (float)((c == data.Labels[i] ? strength : 0) + (k + 1) * random.NextDouble() * 2);
        return logits;
    }

    /// <summary>Every parameter of <paramref name="network"/>, flattened, to compare runs bit for bit.</summary>
    public static float[] Weights(SequentialNetwork network) =>
        network.parameters().SelectMany(p => p.detach().cpu().data<float>().ToArray()).ToArray();

    /// <summary>The small student the training-mechanics tests train, with fixed initial weights.</summary>
    public static SequentialNetwork Student(int heads = 1, string preset = NetworkPresets.CnnSmall) =>
        NetworkTrainer.CreateNetwork(NetworkPresets.Get(preset), Train, seed: 3, heads);

    /// <summary>A teacher-cnn trained on <paramref name="data"/> for one epoch from <paramref name="seed"/>, exported to <paramref name="path"/>.</summary>
    public static string OneEpochTeacher(ImageDataset data, int seed, string path, Mtkd.Training.Onnx.OnnxExportOptions? export = null)
    {
        using var teacher = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.TeacherCnn), data, seed: seed);
        NetworkTrainer.TrainSupervised(teacher, data, new TrainerOptions { Epochs = 1, Seed = seed });
        Mtkd.Training.Onnx.OnnxExporter.Export(teacher, path, export);
        return path;
    }

    /// <summary>Two short epochs with every kind of randomness on (schedule, shifts, flips, rotation).</summary>
    public static TrainerOptions Options(Action<TrainerOptions>? change = null)
    {
        var options = new TrainerOptions
        {
            Epochs = 2, BatchSize = 64, Seed = 5, Schedule = ScheduleKind.Cosine, WarmupEpochs = 0.5,
            Augmentation = new AugmentationOptions { ShiftPixels = 2, HorizontalFlip = true, RotationDegrees = 10 },
        };
        change?.Invoke(options);
        return options;
    }
}
