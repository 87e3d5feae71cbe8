using System.Diagnostics;
using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using static TorchSharp.torch;

namespace Mtkd.Training.Training;

/// <summary>Trains a <see cref="SequentialNetwork"/> with Adam, either on hard labels (teachers) or by distillation (students).</summary>
public static class NetworkTrainer
{
    /// <summary>Creates a network with weights initialized from <paramref name="seed"/>.</summary>
    public static SequentialNetwork CreateNetwork(NetworkSpec spec, ImageDataset shapeOf, int seed)
    {
        TorchRuntime.EnsureLoaded();
        random.manual_seed(seed);
        return new SequentialNetwork(spec, shapeOf.Channels, shapeOf.Height, shapeOf.Width, shapeOf.ClassCount);
    }

    /// <summary>Standard training: cross-entropy against the true labels.</summary>
    public static IReadOnlyList<EpochSummary> TrainSupervised(
        SequentialNetwork network, ImageDataset data, TrainerOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        options.Validate();
        return Run(network, data, options, (logits, _, labels) => nn.functional.cross_entropy(logits, labels), progress, cancellation);
    }

    /// <summary>
    /// Distillation with <see cref="DistillationLoss.OutputAverage"/>. <paramref name="teacherLogits"/> holds, per image,
    /// <paramref name="teacherCount"/> blocks of <c>ClassCount</c> logits (the layout of the soft-label column).
    /// </summary>
    public static IReadOnlyList<EpochSummary> Distill(
        SequentialNetwork student, ImageDataset data, float[] teacherLogits, int teacherCount,
        TrainerOptions options, DistillationOptions distillation,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        options.Validate();
        distillation.Validate();
        long expected = (long)data.Count * teacherCount * data.ClassCount;
        if (teacherCount < 1 || teacherLogits.LongLength != expected)
            throw new ArgumentException(
                $"Teacher logits have {teacherLogits.LongLength} values; expected {data.Count} images × {teacherCount} teachers × {data.ClassCount} classes = {expected}.",
                nameof(teacherLogits));

        using var allTeachers = tensor(teacherLogits, [data.Count, teacherCount, data.ClassCount]);
        return Run(student, data, options,
            (logits, indices, labels) => DistillationLoss.OutputAverage(
                logits, allTeachers.index_select(0, indices), labels, distillation.Temperature, distillation.Alpha),
            progress, cancellation);
    }

    /// <summary>Logits of the network in evaluation mode for every image, [N × ClassCount] row-major.</summary>
    public static float[] PredictLogits(SequentialNetwork network, ImageDataset data, int batchSize = 512)
    {
        network.eval();
        var result = new float[(long)data.Count * network.ClassCount];
        using var noGrad = no_grad();
        for (int start = 0; start < data.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            int n = Math.Min(batchSize, data.Count - start);
            var batch = tensor(data.Pixels.AsSpan(start * data.ImageSize, n * data.ImageSize).ToArray(),
                [n, data.Channels, data.Height, data.Width]);
            network.forward(batch).data<float>().CopyTo(result, start * network.ClassCount);
        }
        return result;
    }

    private delegate Tensor LossFunction(Tensor logits, Tensor batchIndices, Tensor labels);

    private static IReadOnlyList<EpochSummary> Run(
        SequentialNetwork network, ImageDataset data, TrainerOptions options, LossFunction loss,
        IProgress<TrainingProgress>? progress, CancellationToken cancellation)
    {
        if (network.InputShape != new ActivationShape(data.Channels, data.Height, data.Width, false))
            throw new ArgumentException($"Network expects {network.InputShape} images; the data has [{data.Channels}x{data.Height}x{data.Width}].");
        random.manual_seed(options.Seed);
        using var images = tensor(data.Pixels, [data.Count, data.Channels, data.Height, data.Width]);
        using var labels = tensor(data.Labels.Select(l => (long)l).ToArray(), [data.Count]);
        using var optimizer = optim.Adam(network.parameters(), options.LearningRate);

        int steps = (data.Count + options.BatchSize - 1) / options.BatchSize;
        var order = new long[data.Count]; // int64, the index type of index_select
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var shuffler = new Random(options.Seed);
        var summaries = new List<EpochSummary>();
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            network.train();
            shuffler.Shuffle(order);
            double lossSum = 0;
            long correct = 0;
            for (int step = 0; step < steps; step++)
            {
                cancellation.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                int start = step * options.BatchSize, n = Math.Min(options.BatchSize, data.Count - start);
                var indices = tensor(order.AsSpan(start, n).ToArray(), [n]);
                var batchLabels = labels.index_select(0, indices);
                optimizer.zero_grad();
                var logits = network.forward(images.index_select(0, indices));
                var value = loss(logits, indices, batchLabels);
                value.backward();
                optimizer.step();

                double stepLoss = value.item<float>();
                lossSum += stepLoss * n;
                correct += logits.argmax(1).eq(batchLabels).sum().item<long>();
                progress?.Report(new TrainingProgress(epoch, options.Epochs, step + 1, steps, stepLoss));
            }
            summaries.Add(new EpochSummary(epoch, lossSum / data.Count, (double)correct / data.Count, clock.Elapsed.TotalSeconds));
        }
        network.eval();
        return summaries;
    }
}
