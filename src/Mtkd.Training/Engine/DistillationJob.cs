using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using static TorchSharp.torch;

namespace Mtkd.Training.Engine;

/// <summary>
/// One distillation run, whole: the data (labelled, unlabelled, validation), the teachers' signals, the pool of
/// augmented views, the student(s), the method and the training loop. Every front end (the ML.NET trainer,
/// <c>mtkd distill</c>, the demo, the study, the samples) builds one from its own inputs and reads its
/// <see cref="DistillationResult"/>; every rule about which settings go together is here or in the method.
/// </summary>
/// <remarks>
/// The teachers reach the student in one of two ways: as columns of the data (<see cref="TeacherColumns"/>: stored
/// logits, in-bag flags, features, from a soft-label file or scored before), or as <see cref="Teachers"/>, which the
/// job scores once on the training images (or on the pool of views), or on every batch with
/// <see cref="ConsistentTeaching"/>.
/// </remarks>
public sealed record DistillationJob
{
    /// <summary>The training images; a label of <see cref="ImageDataset.Unlabeled"/> is an image taught by the teachers alone.</summary>
    public ImageDataset? Data { get; init; }

    /// <summary>More images without labels, trained on beside <see cref="Data"/>. Default null.</summary>
    public ImageDataset? Unlabeled { get; init; }

    /// <summary>Labelled images validated on after each epoch (and early-stopped on). Default null.</summary>
    public ImageDataset? Validation { get; init; }

    /// <summary>
    /// Share of the labelled training images held out for validation (seeded by the trainer's seed) when no
    /// <see cref="Validation"/> is given. Default 0: none, or 0.1 when early stopping is on.
    /// </summary>
    public double ValidationFraction { get; init; }

    /// <summary>Teachers to score: once on the training images or the pool, or on every batch with <see cref="ConsistentTeaching"/>. Default null.</summary>
    public IBatchTeachers? Teachers { get; init; }

    /// <summary>Score <see cref="Teachers"/> on every augmented (and mixed) training batch instead of once per image. Default false.</summary>
    public bool ConsistentTeaching { get; init; }

    /// <summary>
    /// With <see cref="ConsistentTeaching"/>: the next batch is read, augmented, mixed and scored by the teachers on a thread
    /// of its own while the student steps on the current one (a queue of one batch), so the student's step hides behind
    /// the teachers' inference. The batches and the seeded draws are the same as scoring in turn; with 4 or more
    /// intra-op threads each half gets half of them (<see cref="TrainingLoop.SplitThreads"/>), which changes the last
    /// bits of results as any other thread count does; with fewer, both share them and the weights are bit for bit those
    /// of scoring in turn. Default null: on (on 2 cores, three runs of the distillation benchmark on 2026-12-02 gave
    /// 1.29, 1.56 and 1.42× the teachers' passes scoring ahead against 1.67, 1.37 and 1.75× in turn). false scores in turn.
    /// </summary>
    public bool? ScoreAhead { get; init; }

    /// <summary>The student's architecture. Default: the cnn-small preset.</summary>
    public NetworkSpec Student { get; init; } = NetworkPresets.Get(NetworkPresets.CnnSmall);

    /// <summary>The optimization settings; their defaults apply.</summary>
    public TrainerOptions Trainer { get; init; } = new();

    /// <summary>The method and its loss settings; their defaults apply (output_avg, T 1, α 0.5).</summary>
    public DistillationOptions Distillation { get; init; } = new();

    /// <summary>
    /// A pool of this many views per training image (the image itself and V − 1 drawn by the trainer's shift, flip,
    /// rotation and RandAugment), scored by the teachers once: the student sees exactly the views its teachers judged,
    /// for ⌈epochs / V⌉ passes over the pool (mixup and CutMix still apply per batch). The Fashion-MNIST study's best
    /// recipe (5 views of shift 2 and flips). Default 1: off.
    /// </summary>
    public int Views { get; init; } = 1;

    /// <summary>Receives a report after every step; null for none.</summary>
    public IProgress<TrainingProgress>? Progress { get; init; }

    /// <summary>
    /// Checks every setting and combination, naming the first that cannot work; needs neither <see cref="Data"/> nor
    /// <see cref="Teachers"/>, so a front end can call it before it reads or loads anything. <see cref="Run"/> calls it too.
    /// </summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Trainer, nameof(Trainer));
        ArgumentNullException.ThrowIfNull(Distillation, nameof(Distillation));
        ArgumentNullException.ThrowIfNull(Student, nameof(Student));
        Trainer.Validate();
        Distillation.Validate();
        var method = Distillation.Method;
        if (!(ValidationFraction is >= 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "ValidationFraction must be in [0, 1).");
        if (Validation is not null && ValidationFraction > 0)
            throw new ArgumentException("Give Validation or ValidationFraction, not both: the validation rows come from one of them.");
        if (Views < 1)
            throw new ArgumentOutOfRangeException(nameof(Views), Views, "Views: expected 1 (off) or more views per image.");
        if (Views > 1 && !Trainer.Augmentation.Any)
            throw new ArgumentException("Views draws its pool with the trainer's augmentation: turn on a shift, flip, rotation or RandAugment.");
        if (Views > 1 && ConsistentTeaching)
            throw new ArgumentException("Views scores a pool of views once; ConsistentTeaching scores every batch. Choose one.");
        if (Distillation.OutOfBagTeachers && ConsistentTeaching)
            throw new ArgumentException("OutOfBagTeachers applies to logits scored once; ConsistentTeaching scores every augmented batch, which no teacher trained on.");
        if (Distillation.OutOfBagTeachers && Views > 1)
            throw new ArgumentException("OutOfBagTeachers applies to logits of the training images; a pool of views is scored anew.");
        if (Distillation.AdjustWrongTeachers && ConsistentTeaching)
            throw new ArgumentException("AdjustWrongTeachers applies to stored teacher logits; online teachers are scored batch by batch and are not adjusted.");
    }

    // What needs the data and the teachers themselves.
    private void CheckInputs(ImageDataset data)
    {
        if (ConsistentTeaching && Teachers is null)
            throw new ArgumentException("ConsistentTeaching scores the teachers on every batch: give Teachers.");
        if (Views > 1 && Distillation.Method.Reads != TeacherSignal.None && Teachers is null)
            throw new ArgumentException("Views needs Teachers to score the pool: stored soft labels describe the images, not the views.");
        if (Unlabeled is { } extra && (extra.Channels, extra.Height, extra.Width) != (data.Channels, data.Height, data.Width))
            throw new InvalidDataException($"Unlabeled has images of {extra.Channels}x{extra.Height}x{extra.Width}; the training data has {data.Channels}x{data.Height}x{data.Width}.");
    }

    /// <summary>
    /// The share of the labelled training images held out for validation: <paramref name="validationFraction"/> when
    /// given, else 0.1 when early stopping or a sweep (<paramref name="choosesSettings"/>, <see cref="DistillationSweep"/>)
    /// needs validation data, else none. The rule every front end follows.
    /// </summary>
    public static double HeldOutShare(double? validationFraction, TrainerOptions trainer, bool choosesSettings = false) =>
        validationFraction ?? (trainer.EarlyStoppingPatience is not null || choosesSettings ? 0.1 : 0);

    /// <summary>Trains the student(s); the result owns them.</summary>
    public DistillationResult Run(CancellationToken cancellation = default)
    {
        Validate();
        var data = Data ?? throw new InvalidOperationException("Set Data, the training images, before Run.");
        CheckInputs(data);
        Trainer.Augmentation.CheckFits(data);
        TorchRuntime.EnsureLoaded();
        var method = Distillation.Method;
        var trainer = Trainer.Clone();
        var (train, validation) = SplitData(data, method);

        long teacherPasses = 0;
        if (Views > 1)
        {
            // The views are the augmentation now: the student sees exactly what its teachers scored (mixing still applies per batch).
            train = AugmentedViews.Create(train, trainer.Augmentation, Views, trainer.Seed, includeOriginal: true, cancellation: cancellation);
            trainer.Augmentation = new AugmentationOptions { Mixup = trainer.Augmentation.Mixup, CutMix = trainer.Augmentation.CutMix };
            trainer.Epochs = Math.Max(1, (int)Math.Ceiling(trainer.Epochs / (double)Views));
        }

        var reads = method.Reads;
        var online = ConsistentTeaching ? Teachers : null;
        if (online is null && reads != TeacherSignal.None)
            (train, teacherPasses) = WithStoredSignals(train, reads, cancellation);
        int classCount = train.ClassCount;
        int teacherCount = reads == TeacherSignal.None ? 0 : online?.TeacherCount ?? train.Column(TeacherColumns.Logits)!.Value.Width / classCount;
        int featureWidth = online is not null ? online.FeatureWidth : train.Column(TeacherColumns.Features)?.Width ?? 0;
        int givenTeachers = reads == TeacherSignal.None ? Teachers?.TeacherCount ?? 0 : teacherCount; // methods without teachers refuse given ones
        method.Check(new DistillationSetup(givenTeachers, online is not null, featureWidth > 0, train.Count - train.LabeledCount, Distillation));

        var stored = online is null && reads != TeacherSignal.None ? method.Prepare(StoredSignals(train, teacherCount), train.Labels, classCount, trainer.Seed) : null;
        int seed = trainer.Seed;
        var student = NetworkTrainer.CreateNetwork(Student, train, seed, heads: method.StudentHeads(teacherCount));
        MethodRun? run = null;
        try
        {
            run = method.Start(new MethodStart(student, peer => NetworkTrainer.CreateNetwork(Student, train, unchecked(seed + 7919 * peer)),
                teacherCount, featureWidth, Distillation)
            {
                CreateNetwork = (spec, peer) => NetworkTrainer.CreateNetwork(spec, train, unchecked(seed + 7919 * peer)),
            });
            var history = Train(run, train, validation, trainer, online, stored, cancellation);
            if (online is not null) teacherPasses = (long)history.Count * train.Count * teacherCount;
            var students = run.Students;
            int best = run.ExportedStudent ?? (validation is null || students.Count == 1 ? 0
                : Enumerable.Range(0, students.Count).MaxBy(i => NetworkTrainer.Evaluate(students[i], validation).Accuracy));
            return new DistillationResult(students, best, history, train, validation, teacherCount, teacherPasses, method);
        }
        catch
        {
            foreach (var s in run?.Students ?? [student]) s.Dispose();
            throw;
        }
        finally
        {
            run?.Dispose();
        }
    }

    // The training rows (labelled, then unlabelled) and the validation rows: the given set, or a seeded share of the labelled rows.
    private (ImageDataset Train, ImageDataset? Validation) SplitData(ImageDataset data, DistillationMethod method)
    {
        if (Unlabeled is { } extra)
        {
            var unlabeled = extra.WithoutLabels();
            // Images the teachers never trained on: in-bag flags of 0, so out-of-bag teaching keeps every teacher for them.
            if (data.Column(TeacherColumns.InBag) is { } inBag && unlabeled.Column(TeacherColumns.InBag) is null)
                unlabeled = unlabeled.WithColumn(TeacherColumns.InBag, new float[(long)unlabeled.Count * inBag.Width], inBag.Width);
            data = data.Concat(unlabeled);
        }
        if (!method.LearnsFromUnlabeled)
            data = data.LabeledOnly();
        if (Validation is { } given)
            return (data, given.LabeledOnly());
        double fraction = HeldOutShare(ValidationFraction > 0 ? ValidationFraction : null, Trainer);
        if (fraction == 0)
            return (data, null);
        var labeledRows = Enumerable.Range(0, data.Count).Where(i => data.Labels[i] != ImageDataset.Unlabeled).ToArray();
        var validationRows = data.Subset(labeledRows).HoldOutRows(fraction, Trainer.Seed).ValidationRows.Select(i => labeledRows[i]).ToArray();
        var heldOut = validationRows.ToHashSet();
        return (data.Subset(Enumerable.Range(0, data.Count).Where(i => !heldOut.Contains(i)).ToArray()), data.Subset(validationRows));
    }

    // The columns the method reads, scored once by the teachers where the data does not carry them.
    private (ImageDataset Train, long TeacherPasses) WithStoredSignals(ImageDataset train, TeacherSignal reads, CancellationToken cancellation)
    {
        long passes = 0;
        if (train.Column(TeacherColumns.Logits) is null)
        {
            if (Teachers is null)
                throw new ArgumentException($"{Distillation.Method.Name} learns from teachers: give Teachers, or data with a '{TeacherColumns.Logits}' column (soft labels).");
            train = train.WithColumn(TeacherColumns.Logits, TeacherScoring.Logits(Teachers, train, cancellation), Teachers.TeacherCount * train.ClassCount);
            passes = (long)train.Count * Teachers.TeacherCount;
        }
        if (reads.HasFlag(TeacherSignal.Features) && train.Column(TeacherColumns.Features) is null && Teachers is { FeatureWidth: > 0 } withFeatures)
            train = train.WithColumn(TeacherColumns.Features, TeacherScoring.Features(withFeatures, train, cancellation), withFeatures.FeatureWidth);
        var logits = train.Column(TeacherColumns.Logits)!.Value;
        if (logits.Width % train.ClassCount != 0)
            throw new InvalidDataException($"Column '{TeacherColumns.Logits}' has {logits.Width} values per image, not a whole number of teachers × {train.ClassCount} classes.");
        if (Teachers is not null && logits.Width != Teachers.TeacherCount * train.ClassCount)
            throw new InvalidDataException($"The data's '{TeacherColumns.Logits}' column holds {logits.Width / train.ClassCount} teachers; Teachers has {Teachers.TeacherCount}.");
        if (Distillation.OutOfBagTeachers && train.Column(TeacherColumns.InBag) is not { } bag)
            throw new ArgumentException($"OutOfBagTeachers needs the '{TeacherColumns.InBag}' column: which teacher trained on which image (teachers " +
                $"from mtkd teachers, or soft labels that record it).");
        return (train, passes);
    }

    // The stored signals as the method's steps read them: out-of-bag and knowledge adjustment applied to the logits.
    private StoredTeachers StoredSignals(ImageDataset train, int k)
    {
        int c = train.ClassCount;
        var logits = train.Column(TeacherColumns.Logits)!.Value.Values;
        if (Distillation.OutOfBagTeachers)
        {
            var bag = train.Column(TeacherColumns.InBag)!.Value;
            if (bag.Width != k)
                throw new InvalidDataException($"Column '{TeacherColumns.InBag}' has {bag.Width} flags per image; expected one per teacher ({k}).");
            logits = TeacherLogitAdjustment.OutOfBag(logits, bag.Values.Select(v => v != 0).ToArray(), k, c, Distillation.Temperature);
        }
        if (Distillation.AdjustWrongTeachers)
            logits = TeacherLogitAdjustment.SwapWrongPredictions(logits, train.Labels, k, c);
        return new StoredTeachers(logits, k, train.Column(TeacherColumns.Features)?.Values);
    }

    private IReadOnlyList<EpochSummary> Train(MethodRun run, ImageDataset train, ImageDataset? validation, TrainerOptions trainer,
        IBatchTeachers? online, StoredTeachers? stored, CancellationToken cancellation)
    {
        int c = train.ClassCount;
        bool readsFeatures = Distillation.Method.Reads.HasFlag(TeacherSignal.Features);
        Tensor? allLogits = null, allFeatures = null;
        // Online teachers score one batch ahead unless asked not to; with 4 or more threads each half gets its own.
        int threads = get_num_threads();
        bool scoreAhead = online is not null && (ScoreAhead ?? true);
        var split = scoreAhead ? TrainingLoop.SplitThreads(threads) : (Ahead: 0, Training: 0);
        if (split.Training > 0) set_num_threads(split.Training);
        try
        {
            return TrainingLoop.Run(run.Student, run.Companions, train, validation, trainer, Fingerprint(run, train, trainer, online, stored),
                device =>
                {
                    if (stored is not null)
                    {
                        allLogits = tensor(stored.Logits, [train.Count, stored.Count, c], device: device);
                        if (readsFeatures && stored.Features is { } f)
                            allFeatures = tensor(f, [train.Count, f.LongLength / train.Count], device: device);
                    }
                    return (images, indices, labels, mix, ahead) =>
                    {
                        // Online teachers see the augmented (and mixed) batch itself, scored ahead of this step (or now);
                        // stored logits describe the unaugmented images, so under mixing they are mixed as probabilities with the batch's λ.
                        Tensor? teachers = online is not null ? (ahead.Count > 0 ? ahead[0] : online.Score(images))
                            : allLogits is null ? null
                            : mix is null ? allLogits.index_select(0, indices)
                            : mix.MixTeacherLogits(allLogits.index_select(0, indices), Distillation.Temperature);
                        Tensor? features = !readsFeatures ? null
                            : online is not null ? (ahead.Count > 1 ? ahead[1] : online.ScoreFeatures(images))
                            : allFeatures is null ? null
                            : mix is null ? allFeatures.index_select(0, indices)
                            : MixFeatures(allFeatures.index_select(0, indices), mix);
                        using var hard = LabelTargets.From(labels, c, Distillation.LabelSmoothing, mix);
                        return run.Step(new DistillationBatch(images, teachers, features, hard, Distillation));
                    };
                },
                Progress, cancellation,
                ahead: !scoreAhead ? null
                    : readsFeatures ? images => [online!.Score(images), online.ScoreFeatures(images)] : images => [online!.Score(images)],
                aheadThreads: split.Ahead);
        }
        finally
        {
            if (split.Training > 0) set_num_threads(threads); // the training thread's own count back as it was
            allLogits?.Dispose();
            allFeatures?.Dispose();
        }
    }

    // Stored features of unmixed images, mixed linearly with the batch's λ as the images were.
    private static Tensor MixFeatures(Tensor features, BatchMix mix) => mix.Lambda * features + (1 - mix.Lambda) * features.index_select(0, mix.Permutation);

    private string Fingerprint(MethodRun run, ImageDataset train, TrainerOptions trainer, IBatchTeachers? online, StoredTeachers? stored) =>
        NetworkTrainer.Fingerprint(run.Student, train, trainer,
            $"distill {run.Students.Count} student(s){(online is null ? "" : " online")} {System.Text.Json.JsonSerializer.Serialize(Distillation)}",
            online is not null ? () => online.Identity
            : stored is not null ? () => $"logits {ContentHash.Of(stored.Logits)}" + (stored.Features is { } f ? $", features {ContentHash.Of(f)}" : "")
            : null);
}
