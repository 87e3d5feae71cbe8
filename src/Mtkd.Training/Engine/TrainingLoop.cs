using System.Diagnostics;
using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Engine;

/// <summary>
/// The training loop behind teacher training and every distillation mode: optimizer, schedule, augmentation,
/// validation, early stopping, checkpoints and the metrics log. Every step runs in its own dispose scope.
/// Determinism: batch order, dropout and augmentation are seeded from (seed, epoch) and the learning rate is a
/// function of the step, so a run resumed from a checkpoint ends with the same weights as an uninterrupted one.
/// </summary>
internal static class TrainingLoop
{
    /// <summary>
    /// One step's loss and the [B, C] logits that count for accuracy, for the images at <paramref name="indices"/>
    /// (labels −1 where an image has none); <paramref name="mix"/> says how the batch was mixed, null if it was not.
    /// </summary>
    public delegate (Tensor Loss, Tensor Predictions) StepFunction(Tensor images, Tensor indices, Tensor labels, BatchMix? mix, IReadOnlyList<Tensor> ahead);

    /// <summary>
    /// Work on a prepared batch that reads nothing a step changes (online teachers' logits and features): given it, the
    /// loop reads, augments, mixes and scores the next batch on a thread of its own while the step runs on the current
    /// one (<see cref="BatchPipeline"/>); its tensors reach the step as <c>ahead</c>.
    /// </summary>
    public delegate Tensor[] AheadFunction(Tensor images);

    /// <summary>
    /// How the intra-op threads are shared when work runs ahead: with 4 or more, half of them go to the preparing thread
    /// and the training thread keeps the rest (the two halves on cores of their own); with fewer both keep them all and
    /// share the cores. Returns (preparing thread's count or 0 to leave it, training thread's count or 0).
    /// </summary>
    public static (int Ahead, int Training) SplitThreads(int threads) => threads >= 4 ? (threads / 2, threads - threads / 2) : (0, 0);

    // companions: modules trained beside the network (a method's projector, peer students), optimized,
    // checkpointed and moved with it; null for none.
    public static IReadOnlyList<EpochSummary> Run(
        SequentialNetwork network, nn.Module? companions, ImageDataset data, ImageDataset? validation, TrainerOptions options, string fingerprint,
        Func<Device, StepFunction> createStep, IProgress<TrainingProgress>? progress, CancellationToken cancellation,
        Action<EpochSummary>? afterEpoch = null, AheadFunction? ahead = null, int aheadThreads = 0)
    {
        options.Validate();
        options.Augmentation.CheckFits(data);
        CheckShape(network, data, "training");
        if (validation is not null) CheckShape(network, validation, "validation");
        if (validation is { HasUnlabeled: true })
            throw new ArgumentException($"The validation data has {validation.Count - validation.LabeledCount} unlabelled images; validation needs every label.");
        if (options.EarlyStoppingPatience is not null && validation is null)
            throw new ArgumentException("Early stopping watches validation data; pass a validation set or turn EarlyStoppingPatience off.");

        var (device, deviceMessage) = TrainingDevice.Resolve(options.Device);
        // A batch larger than the data is the whole data: the steps are the same, and no buffer of the asked size is made.
        int batchSize = Math.Min(options.BatchSize, data.Count);
        TrainingMemory.CheckBatch(network, batchSize);
        int steps = (data.Count + batchSize - 1) / batchSize;
        if (deviceMessage is not null)
            progress?.Report(new TrainingProgress(1, options.Epochs, 0, steps, double.NaN, Message: deviceMessage));
        network.to(device);
        companions?.to(device);

        // Each batch is read into a reused buffer; ahead of the step, three batches can be alive at once (being scored, queued, stepped on).
        var readers = Enumerable.Range(0, ahead is null ? 1 : 3).Select(_ => new PixelTensors(data, batchSize)).ToArray();
        using var labels = tensor(data.Labels.Select(l => (long)l).ToArray(), [data.Count], device: device);
        using var optimizer = CreateOptimizer(companions is null ? network.parameters() : network.parameters().Concat(companions.parameters()), options);
        var step = createStep(device);

        var checkpoint = options.CheckpointDirectory is { } directory ? new TrainingCheckpoint(directory) : null;
        var history = new List<EpochSummary>();
        double? best = null;
        int bestEpoch = 0;
        bool stopped = false;
        if (checkpoint is { Exists: true })
        {
            var state = checkpoint.Load(network, companions, optimizer, fingerprint);
            (history, best, bestEpoch, stopped) = (state.History, state.BestMetric, state.BestEpoch, state.Stopped);
            progress?.Report(new TrainingProgress(Math.Min(state.EpochsDone + 1, options.Epochs), options.Epochs, 0, steps, double.NaN,
                Message: $"Resuming from the checkpoint in {options.CheckpointDirectory} after epoch {state.EpochsDone}."));
        }

        using var bestWeights = new BestWeights(network, checkpoint);
        var order = new long[data.Count]; // int64, the index type of index_select
        for (int epoch = history.Count + 1; epoch <= options.Epochs && !stopped; epoch++)
        {
            var clock = Stopwatch.StartNew();
            network.train();
            companions?.train();
            random.manual_seed(Mix(options.Seed, epoch, 1)); // dropout
            var shuffler = new Random(Mix(options.Seed, epoch, 2));
            var augmentRandom = new Random(Mix(options.Seed, epoch, 3));
            for (int i = 0; i < order.Length; i++) order[i] = i;
            shuffler.Shuffle(order);

            // Batch s: drawn, read, augmented and mixed (the seeded draws in step order, on whichever thread prepares it), then scored ahead.
            BatchPipeline.Batch Prepare(int s)
            {
                using var scope = NewDisposeScope();
                int start = s * batchSize, n = Math.Min(batchSize, data.Count - start);
                var batchOrder = order.AsSpan(start, n);
                var indices = tensor(batchOrder.ToArray(), [n], device: device);
                var batchLabels = labels.index_select(0, indices);
                var augmented = TensorAugmentation.Apply(readers[s % readers.Length].Read(batchOrder, device), options.Augmentation, augmentRandom);
                var (batch, mix) = BatchMixing.Apply(augmented, options.Augmentation, augmentRandom);
                return new BatchPipeline.Batch(n, indices, batchLabels, batch, mix, ahead?.Invoke(batch) ?? []).DetachFrom(scope);
            }

            double lossSum = 0, learningRate = 0;
            long correct = 0;
            using var pipeline = ahead is null ? null : new BatchPipeline(steps, Prepare, aheadThreads, cancellation);
            for (int s = 0; s < steps; s++)
            {
                if (cancellation.IsCancellationRequested)
                    throw new OperationCanceledException(
                        $"the run stopped in epoch {epoch}, before step {s + 1} of {steps}; " +
                        (options.CheckpointDirectory is { } saved
                            ? $"{saved} holds {(history.Count == 0 ? "no complete epoch yet" : $"epoch {history.Count}")}: rerun it with the same settings to resume."
                            : "it kept no checkpoint."),
                        cancellation);
                using var scope = NewDisposeScope();
                learningRate = LearningRateSchedule.At(options, (long)(epoch - 1) * steps + s, steps);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate;
                using var prepared = pipeline?.Take() ?? Prepare(s);
                var (n, batchLabels) = (prepared.Count, prepared.Labels);
                optimizer.zero_grad();
                var (loss, predictions) = step(prepared.Images, prepared.Indices, batchLabels, prepared.Mix, prepared.Ahead);
                loss.backward();
                optimizer.step();

                double stepLoss = loss.item<float>();
                if (!double.IsFinite(stepLoss))
                    throw new InvalidDataException($"Training stopped at epoch {epoch}, batch {s + 1} of {steps}: the loss is {stepLoss}. " +
                        "No checkpoint was written for this epoch. Check the teachers' logits or soft labels for non-finite values, and try a lower learning rate.");
                lossSum += stepLoss * n;
                correct += predictions.argmax(1).eq(batchLabels).sum().item<long>();
                if (s < steps - 1)
                    progress?.Report(new TrainingProgress(epoch, options.Epochs, s + 1, steps, stepLoss));
            }

            if ((FirstNonFiniteParameter(network) ?? (companions is null ? null : FirstNonFiniteParameter(companions))) is { } bad)
                throw new InvalidDataException($"Training stopped after epoch {epoch}: parameter '{bad}' holds non-finite values (a gradient " +
                    $"overflowed). No checkpoint was written for this epoch; try a lower learning rate.");
            var (validationLoss, validationAccuracy) = validation is null ? ((double?)null, (double?)null) : Evaluate(network, validation, device);
            // Accuracy on the labelled images only (against their own labels, also in a mixed batch); NaN with none.
            var summary = new EpochSummary(epoch, lossSum / data.Count, (double)correct / data.LabeledCount, clock.Elapsed.TotalSeconds,
                validationLoss, validationAccuracy, learningRate);
            history.Add(summary);

            string? message = null;
            if (options.EarlyStoppingPatience is { } patience)
            {
                double metric = options.EarlyStoppingMetric == EarlyStoppingMetric.ValidationLoss ? validationLoss!.Value : -validationAccuracy!.Value;
                if (best is null || metric < best)
                {
                    (best, bestEpoch) = (metric, epoch);
                    bestWeights.Keep();
                }
                else if (epoch - bestEpoch >= patience)
                {
                    stopped = true;
                    message = $"Early stopping after epoch {epoch}: no better {options.EarlyStoppingMetric} for {patience} epochs; keeping epoch {bestEpoch}'s weights.";
                }
            }
            if (options.MetricsPath is { } metrics)
                MetricsLog.Write(metrics, history);
            checkpoint?.Save(network, companions, optimizer, new TrainingCheckpoint.State(epoch, stopped, best, bestEpoch, history, fingerprint), data.ClassNames);
            afterEpoch?.Invoke(summary);
            progress?.Report(new TrainingProgress(epoch, options.Epochs, steps, steps, summary.MeanLoss, summary, message));
        }

        if (options.EarlyStoppingPatience is not null)
            bestWeights.Restore();
        network.eval();
        network.to(CPU);
        companions?.eval();
        companions?.to(CPU);
        return history;
    }

    /// <summary>Cross-entropy and accuracy of the network's predictions, in evaluation mode.</summary>
    public static (double Loss, double Accuracy) Evaluate(SequentialNetwork network, ImageDataset data, Device device, int batchSize = 512)
    {
        if (data.HasUnlabeled)
            throw new ArgumentException($"Evaluation needs labelled images; {data.Count - data.LabeledCount} of the {data.Count} have no label.", nameof(data));
        bool wasTraining = network.training;
        network.eval();
        using var noGrad = no_grad();
        double lossSum = 0;
        long correct = 0;
        batchSize = PixelTensors.InferenceBatch(data, batchSize);
        var images = new PixelTensors(data, batchSize);
        for (int start = 0; start < data.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            int n = Math.Min(batchSize, data.Count - start);
            var batch = images.Read(start, n, device);
            var labels = tensor(data.Labels.AsSpan(start, n).ToArray().Select(l => (long)l).ToArray(), [n], device: device);
            var logits = network.forward(batch);
            lossSum += nn.functional.cross_entropy(logits, labels).item<float>() * n;
            correct += logits.argmax(1).eq(labels).sum().item<long>();
        }
        if (wasTraining) network.train(); // validation mid-run returns the network to training mode
        return (lossSum / data.Count, (double)correct / data.Count);
    }

    /// <summary>The name of the first parameter or buffer (batch-norm statistics) holding NaN or ±∞, or null when all are finite.</summary>
    internal static string? FirstNonFiniteParameter(nn.Module network)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope(); // the isfinite() and all() results
        foreach (var (name, tensor) in network.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(network.named_buffers()))
            if (tensor.is_floating_point() && !tensor.isfinite().all().item<bool>())
                return name;
        return null;
    }

    private static OptimizerHelper CreateOptimizer(IEnumerable<Parameter> parameters, TrainerOptions o) => o.Optimizer switch
    {
        OptimizerKind.Adam => optim.Adam(parameters, o.LearningRate, weight_decay: o.WeightDecay),
        OptimizerKind.AdamW => optim.AdamW(parameters, o.LearningRate, weight_decay: o.WeightDecay),
        OptimizerKind.Sgd => optim.SGD(parameters, o.LearningRate, momentum: o.Momentum, weight_decay: o.WeightDecay, nesterov: o.Nesterov),
        _ => throw new ArgumentOutOfRangeException(nameof(o), o.Optimizer, "Unknown optimizer."),
    };

    private static void CheckShape(SequentialNetwork network, ImageDataset data, string role)
    {
        if (network.InputShape != new ActivationShape(data.Channels, data.Height, data.Width, false))
            throw new ArgumentException($"Network expects {network.InputShape} images; the {role} data has [{data.Channels}x{data.Height}x{data.Width}].");
        if (network.ClassCount != data.ClassCount)
            throw new ArgumentException($"Network has {network.ClassCount} classes; the {role} data has {data.ClassCount}.");
    }

    // A fixed mix of (seed, epoch, stream) into one seed. Not HashCode.Combine: that is randomised per process,
    // which would make the same seed give different weights in different runs.
    internal static int Mix(int seed, int epoch, int stream)
    {
        ulong z = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)(uint)epoch * 0xBF58476D1CE4E5B9UL + (ulong)(uint)stream * 0x94D049BB133111EBUL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) & int.MaxValue);
    }

    /// <summary>The best weights so far, in memory and (with checkpoints) on disk, so a resumed run can still restore them.</summary>
    private sealed class BestWeights(SequentialNetwork network, TrainingCheckpoint? checkpoint) : IDisposable
    {
        private Dictionary<string, Tensor>? copy;

        public void Keep()
        {
            Release();
            using var scope = NewDisposeScope(); // disposes the detach() views; the clones leave it
            copy = network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
            checkpoint?.MarkBest();
        }

        public void Restore()
        {
            if (copy is not null)
                network.load_state_dict(copy);
            else if (checkpoint is { HasBest: true })
                checkpoint.LoadBest(network); // resumed after the best epoch: it is on disk only
        }

        private void Release()
        {
            if (copy is null) return;
            foreach (var t in copy.Values) t.Dispose();
            copy = null;
        }

        public void Dispose() => Release();
    }
}
