using Mtkd.Training.Networks;

namespace Mtkd.Training.Engine;

/// <summary>
/// What training a network needs in memory, estimated from its spec before anything is allocated, so an absurd width
/// or batch size is a usage error that says what would fit instead of a failed 720 GB allocation. Weights count four
/// times (weights, gradients, Adam's two moments), activations three (the forward pass, what backward keeps, their
/// gradients), all float32: rough, and on the generous side.
/// </summary>
internal static class TrainingMemory
{
    /// <summary>Bytes this process may use; tests replace it.</summary>
    internal static Func<long> Available { get; set; } = () => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>Refuses a network whose weights alone would not fit, before it is built.</summary>
    public static void CheckNetwork(NetworkSpec spec, int channels, int height, int width, int classCount, int heads)
    {
        double weights = WeightBytes(spec, channels, height, width, classCount, heads);
        long available = Available();
        if (weights > available)
            throw new ArgumentException($"{spec.Name} has {Parameters(spec, channels, height, width, classCount, heads):N0} parameters: training it needs about " +
                $"{Gib(weights)} for its weights alone, and this machine has {Gib(available)}; choose a smaller width.");
    }

    /// <summary>Refuses a batch size whose step would not fit, naming the largest that would.</summary>
    public static void CheckBatch(SequentialNetwork network, int batchSize)
    {
        var shape = network.InputShape;
        double weights = WeightBytes(network.Spec, shape.Channels, shape.Height, shape.Width, network.ClassCount, network.HeadCount);
        double perImage = 3.0 * sizeof(float) * network.Shapes.Sum(s => (double)s.Size);
        long available = Available();
        if (weights + batchSize * perImage <= available) return;
        long fits = (long)Math.Max(0, (available - weights) / perImage);
        throw new ArgumentException($"A batch of {batchSize:N0} images of {shape} through {network.Spec.Name} needs about {Gib(weights + batchSize * perImage)}; " +
            $"this machine has {Gib(available)}: at most about {fits:N0} images fit in a batch.");
    }

    private static long Parameters(NetworkSpec spec, int channels, int height, int width, int classCount, int heads) =>
        NetworkComplexity.Of(spec, channels, height, width, classCount, heads).Parameters;

    private static double WeightBytes(NetworkSpec spec, int channels, int height, int width, int classCount, int heads) =>
        4.0 * sizeof(float) * Parameters(spec, channels, height, width, classCount, heads);

    private static string Gib(double bytes) => $"{bytes / (1L << 30):F1} GiB";
}
