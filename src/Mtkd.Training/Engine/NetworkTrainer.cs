using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using static TorchSharp.torch;

namespace Mtkd.Training.Engine;

/// <summary>What a student learns from: every teacher's logits per image, and for supernet2 the teachers' penultimate features.</summary>
/// <param name="TeacherLogits">Per image, <paramref name="TeacherCount"/> blocks of C logits (the layout of the soft-label column).</param>
/// <param name="TeacherCount">K.</param>
/// <param name="TeacherFeatures">Per image, the concatenated penultimate features of all teachers (supernet2 only).</param>
/// <param name="OnlineTeachers">
/// Teachers scored on every training batch after augmentation instead of <paramref name="TeacherLogits"/>
/// (which may then be empty); not for the supernet modes, whose aggregator is fitted on stored logits.
/// </param>
public sealed record DistillationTargets(float[] TeacherLogits, int TeacherCount, float[]? TeacherFeatures = null, IBatchTeachers? OnlineTeachers = null)
{
    /// <summary>
    /// Per image, <see cref="TeacherCount"/> flags: whether teacher k trained on it ([N, K] row-major, as
    /// <see cref="TeacherGeneration.InBagMask"/> gives). Needed by <see cref="DistillationOptions.OutOfBagTeachers"/>. Default null.
    /// </summary>
    public bool[]? InBag { get; init; }
}

/// <summary>Trains a <see cref="SequentialNetwork"/>, either on hard labels (teachers) or by distillation (students).</summary>
public static class NetworkTrainer
{
    /// <summary>Creates a network with weights initialized from <paramref name="seed"/>; <paramref name="heads"/> &gt; 1 for mimic_all students.</summary>
    public static SequentialNetwork CreateNetwork(NetworkSpec spec, ImageDataset shapeOf, int seed, int heads = 1)
    {
        TorchRuntime.EnsureLoaded();
        random.manual_seed(seed);
        return new SequentialNetwork(spec, shapeOf.Channels, shapeOf.Height, shapeOf.Width, shapeOf.ClassCount, heads);
    }

    /// <summary>Standard training: cross-entropy against the true labels (mixed ones under mixup or CutMix). Every image needs a label.</summary>
    public static IReadOnlyList<EpochSummary> TrainSupervised(
        SequentialNetwork network, ImageDataset data, TrainerOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default, ImageDataset? validation = null)
    {
        if (data.HasUnlabeled)
            throw new ArgumentException($"Standard training needs a label for every image; {data.Count - data.LabeledCount} of the {data.Count} have none (use LabeledOnly(), or distil to learn from them).", nameof(data));
        return TrainingLoop.Run(network, data, validation, options, Fingerprint(network, data, options, "supervised"),
            _ => (images, _, labels, mix) =>
            {
                var logits = network.forward(images);
                using var targets = LabelTargets.From(labels, data.ClassCount, mix: mix);
                return (DistillationLoss.HardLoss(logits, targets), logits);
            },
            progress, cancellation);
    }

    /// <summary>Distillation with the loss of <paramref name="distillation"/>'s mode (output_avg by default).</summary>
    public static IReadOnlyList<EpochSummary> Distill(
        SequentialNetwork student, ImageDataset data, float[] teacherLogits, int teacherCount,
        TrainerOptions options, DistillationOptions distillation,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default) =>
        Distill(student, data, new DistillationTargets(teacherLogits, teacherCount), options, distillation, null, progress, cancellation);

    /// <summary>Distillation in any mode, with optional validation data for early stopping and the metrics log.</summary>
    public static IReadOnlyList<EpochSummary> Distill(
        SequentialNetwork student, ImageDataset data, DistillationTargets targets, TrainerOptions options, DistillationOptions distillation,
        ImageDataset? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        options.Validate();
        distillation.Validate();
        int k = targets.TeacherCount, c = data.ClassCount;
        long expected = (long)data.Count * k * c;
        var online = targets.OnlineTeachers;
        if (online is not null && (online.TeacherCount != k || distillation.Mode is DistillationMode.Supernet or DistillationMode.Supernet2))
            throw new ArgumentException(online.TeacherCount != k
                ? $"The online teachers are {online.TeacherCount}, but TeacherCount says {k}."
                : $"{distillation.Mode.Name()} fits its aggregator on stored teacher logits; online teachers do not apply.", nameof(targets));
        if (k < 1 || (online is null && targets.TeacherLogits.LongLength != expected))
            throw new ArgumentException(
                $"Teacher logits have {targets.TeacherLogits.LongLength} values; expected {data.Count} images × {k} teachers × {c} classes = {expected}.",
                nameof(targets));
        if (distillation.Mode == DistillationMode.MimicAll && student.HeadCount != k)
            throw new ArgumentException($"mimic_all needs a student with one head per teacher ({k}); this one has {student.HeadCount}. Create it with heads: {k}.", nameof(student));
        if (distillation.Mode != DistillationMode.MimicAll && student.HeadCount != 1)
            throw new ArgumentException($"Only mimic_all trains a student with several heads; {distillation.Mode.Name()} needs one.", nameof(student));

        if (distillation.AdjustWrongTeachers && (online is not null || distillation.Mode == DistillationMode.Supernet2))
            throw new ArgumentException(online is not null
                ? "AdjustWrongTeachers applies to stored teacher logits; online teachers are scored batch by batch and are not adjusted."
                : "AdjustWrongTeachers adjusts teacher logits; supernet2 learns from the teachers' features.", nameof(distillation));
        if (data.HasUnlabeled && distillation.Mode is DistillationMode.Supernet or DistillationMode.Supernet2)
            throw new ArgumentException($"{distillation.Mode.Name()} fits its aggregator on the labels; {data.Count - data.LabeledCount} images have none. Use another mode, or only labelled images.", nameof(data));
        if (distillation.OutOfBagTeachers && (online is not null || targets.InBag is null))
            throw new ArgumentException(online is not null
                ? "OutOfBagTeachers applies to stored teacher logits; online teachers score every batch."
                : "OutOfBagTeachers needs DistillationTargets.InBag: which teacher trained on which image (TeacherGeneration.InBagMask).", nameof(targets));
        if (targets.InBag is { } mask && mask.LongLength != (long)data.Count * k)
            throw new ArgumentException($"The in-bag mask has {mask.LongLength} flags; expected {data.Count} images × {k} teachers = {(long)data.Count * k}.", nameof(targets));
        var storedLogits = targets.TeacherLogits;
        if (distillation.OutOfBagTeachers)
            storedLogits = TeacherLogitAdjustment.OutOfBag(storedLogits, targets.InBag!, k, c, distillation.Temperature);
        if (distillation.AdjustWrongTeachers)
            storedLogits = TeacherLogitAdjustment.SwapWrongPredictions(storedLogits, data.Labels, k, c);
        var (teacherValues, teachers) = distillation.Mode switch
        {
            DistillationMode.Supernet => (SupernetAggregator.FitAndApply(storedLogits, data.Labels, c, options.Seed).Logits, 1),
            DistillationMode.Supernet2 => (SupernetAggregator.FitAndApply(
                targets.TeacherFeatures ?? throw new ArgumentException("supernet2 needs the teachers' penultimate features (DistillationTargets.TeacherFeatures).", nameof(targets)),
                data.Labels, c, options.Seed).Logits, 1),
            _ => (storedLogits, k),
        };

        Tensor? allTeachers = null;
        try
        {
            return TrainingLoop.Run(student, data, validation, options,
                Fingerprint(student, data, options, $"distill K={k}{(online is null ? "" : " online")} {System.Text.Json.JsonSerializer.Serialize(distillation)}",
                    () => online is not null ? online.Identity : $"logits {ContentHash.Of(targets.TeacherLogits)}" + (targets.TeacherFeatures is { } f ? $", features {ContentHash.Of(f)}" : "")),
                device =>
                {
                    if (online is null)
                        allTeachers = tensor(teacherValues, [data.Count, teachers, c], device: device);
                    return (images, indices, labels, mix) =>
                    {
                        // Online teachers see the augmented (and mixed) batch itself; stored logits describe the
                        // unaugmented images, so under mixing they are mixed as probabilities with the batch's λ.
                        var batchTeachers = online is not null ? online.Score(images)
                            : mix is null ? allTeachers!.index_select(0, indices)
                            : mix.MixTeacherLogits(allTeachers!.index_select(0, indices), distillation.Temperature);
                        using var hard = LabelTargets.From(labels, c, distillation.LabelSmoothing, mix);
                        if (distillation.Mode == DistillationMode.MimicAll)
                        {
                            var heads = student.ForwardHeads(images);
                            return (DistillationLoss.Compute(distillation, heads, batchTeachers, hard), DistillationLoss.MeanOfHeadsLogProbabilities(heads));
                        }
                        var logits = student.forward(images);
                        return (DistillationLoss.Compute(distillation, logits, batchTeachers, hard), logits);
                    };
                },
                progress, cancellation);
        }
        finally
        {
            allTeachers?.Dispose();
        }
    }

    /// <summary>Cross-entropy and accuracy of the network on labelled images, in evaluation mode on the CPU.</summary>
    public static (double Loss, double Accuracy) Evaluate(SequentialNetwork network, ImageDataset data) => TrainingLoop.Evaluate(network, data, CPU);

    /// <summary>Logits of the network in evaluation mode for every image, [N × ClassCount] row-major.</summary>
    public static float[] PredictLogits(SequentialNetwork network, ImageDataset data, int batchSize = 512)
    {
        network.eval();
        var result = new float[(long)data.Count * network.ClassCount];
        using var noGrad = no_grad();
        batchSize = PixelTensors.InferenceBatch(data, batchSize);
        var images = new PixelTensors(data, batchSize);
        for (int start = 0; start < data.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            int n = Math.Min(batchSize, data.Count - start);
            var batch = images.Read(start, n);
            network.forward(batch).data<float>().CopyTo(result, start * network.ClassCount);
        }
        return result;
    }

    // What a checkpoint must agree on to be resumed by this run: every setting that shapes the weights, as the options
    // serialize (so an option added later is covered without touching this), less where files go and the device; and
    // what it learns from: a hash of the data and of the teachers. Items are separated by " | " so a mismatch can be named.
    // Without checkpoints nothing reads it, so the hashes (up to 2,048 images read) are not computed.
    private static string Fingerprint(SequentialNetwork network, ImageDataset data, TrainerOptions o, string task, Func<string>? teachers = null)
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
