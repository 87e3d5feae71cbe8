using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using static TorchSharp.torch;

namespace Mtkd.Training.Engine;

/// <summary>Creates, trains on hard labels (teachers) and evaluates a <see cref="SequentialNetwork"/>; students are distilled by a <see cref="DistillationJob"/>.</summary>
public static class NetworkTrainer
{
    /// <summary>Creates a network with weights initialized from <paramref name="seed"/>; <paramref name="heads"/> &gt; 1 for mimic_all students.</summary>
    public static SequentialNetwork CreateNetwork(NetworkSpec spec, ImageDataset shapeOf, int seed, int heads = 1)
    {
        TrainingMemory.CheckNetwork(spec, shapeOf.Channels, shapeOf.Height, shapeOf.Width, shapeOf.ClassCount, heads);
        TorchRuntime.EnsureLoaded();
        random.manual_seed(seed);
        // Weight initialisers return handles of the tensors they fill; the scope frees those, not the weights.
        using var scope = NewDisposeScope();
        var network = new SequentialNetwork(spec, shapeOf.Channels, shapeOf.Height, shapeOf.Width, shapeOf.ClassCount, heads);
        foreach (var (_, parameter) in network.named_parameters()) parameter.DetachFromDisposeScope();
        foreach (var (_, buffer) in network.named_buffers()) buffer.DetachFromDisposeScope();
        return network;
    }

    /// <summary>Standard training: cross-entropy against the true labels (mixed ones under mixup or CutMix). Every image needs a label.</summary>
    public static IReadOnlyList<EpochSummary> TrainSupervised(
        SequentialNetwork network, ImageDataset data, TrainerOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default, ImageDataset? validation = null)
    {
        if (data.HasUnlabeled)
            throw new ArgumentException($"Standard training needs a label for every image; {data.Count - data.LabeledCount} of the {data.Count} have " +
                $"none (use LabeledOnly(), or distil to learn from them).", nameof(data));
        return TrainingLoop.Run(network, null, data, validation, options, Fingerprint(network, data, options, "supervised"),
            _ => (images, _, labels, mix, _) =>
            {
                var logits = network.forward(images);
                using var targets = LabelTargets.From(labels, data.ClassCount, mix: mix);
                return (DistillationLoss.HardLoss(logits, targets), logits);
            },
            progress, cancellation);
    }

    /// <summary>Cross-entropy and accuracy of the network on labelled images, in evaluation mode on the CPU.</summary>
    public static (double Loss, double Accuracy) Evaluate(SequentialNetwork network, ImageDataset data) => TrainingLoop.Evaluate(network, data, CPU);

    /// <summary>Logits of the network in evaluation mode for every image, [N × ClassCount] row-major.</summary>
    public static float[] PredictLogits(SequentialNetwork network, ImageDataset data, int batchSize = 512)
    {
        network.eval();
        using var noGrad = no_grad();
        return PixelTensors.Outputs(data, batchSize, network.ClassCount, network.forward);
    }

    // What a checkpoint must agree on to be resumed by this run: every setting that shapes the weights, as the options
    // serialize (so an option added later is covered without touching this), less where files go and the device; and
    // what it learns from: a hash of the data and of the teachers. Items are separated by " | " so a mismatch can be named.
    // Without checkpoints nothing reads it, so the hashes (up to 2,048 images read) are not computed.
    internal static string Fingerprint(SequentialNetwork network, ImageDataset data, TrainerOptions o, string task, Func<string>? teachers = null)
    {
        if (o.CheckpointDirectory is null) return "";
        var shaping = o.Clone();
        (shaping.CheckpointDirectory, shaping.MetricsPath, shaping.Device) = (null, null, null);
        return string.Join(TrainingCheckpoint.FingerprintSeparator, new[]
        {
            $"task {task}", $"network {network.Spec.Name} heads={network.HeadCount} params={network.ParameterCount}",
            $"data {data.Count} images ({data.LabeledCount} labelled), content {ContentHash.Of(data)}",
            teachers is null ? null : $"teachers {teachers()}",
            $"options {System.Text.Json.JsonSerializer.Serialize(shaping)}",
        }.OfType<string>());
    }
}
