using Mtkd.Training.Data;
using Mtkd.Training.Networks;
using static TorchSharp.torch;

namespace Mtkd.Training.Engine;

/// <summary>One generated teacher: its network (the caller disposes it), its training history and, with validation data, its accuracy there.</summary>
public sealed record GeneratedTeacher(int Index, SequentialNetwork Network, IReadOnlyList<EpochSummary> History, double? ValidationAccuracy)
{
    /// <summary>The rows of the training data this teacher trained on (in the order it took them: a bagged teacher's seeded draw, a cross-fitted one's ascending); null when it trained on
    /// all of them.</summary>
    public int[]? TrainingRows { get; init; }

    /// <summary>A specialist's classes (its outputs: those classes, then "other"); null for a teacher of all the classes.</summary>
    public Teachers.SpecialistClasses? Specialist { get; init; }
}

/// <summary>
/// Ways to make an ensemble: deep ensembles (K teachers, each on all the training data from its own seed;
/// Lakshminarayanan et al. 2017), the source method's bagging (each on its own random subset) and snapshot
/// ensembles (one run with a cyclic cosine schedule, a snapshot at the end of each cycle; Huang et al. 2017), and
/// cross-fitting (teacher k on every fold but k).
/// </summary>
public static class TeacherGeneration
{
    /// <summary>
    /// K teachers, teacher k trained on all of <paramref name="data"/> from seed <c>options.Seed + k</c>: members
    /// that differ only by their initialisation and batch order decorrelate about as much as bagged ones without
    /// losing data, and teach better (MTKD's own notebook: every mode is best with teachers on all the data).
    /// Paths as in <see cref="Bagging"/>; early stopping needs <paramref name="validation"/> data.
    /// </summary>
    public static IEnumerable<GeneratedTeacher> Seeds(ImageDataset data, NetworkSpec spec, int count, TrainerOptions options,
        ImageDataset? validation = null, IProgress<(int Teacher, TrainingProgress Progress)>? progress = null, CancellationToken cancellation = default) =>
        Bagging(data, spec, count, fraction: 1, options, validation, progress, cancellation);

    /// <summary>
    /// Specialists (Zaras, Passalis and Tefas 2021): teacher k, from seed <c>options.Seed + k</c>, learns on all of
    /// <paramref name="data"/> to tell the classes of <paramref name="groups"/>[k] apart and every other image as
    /// "other" (<see cref="Teachers.SpecialistClasses.Relabel"/>). Export each with its classes
    /// (<see cref="Onnx.OnnxExportOptions.Specialist"/>) and the teachers read from the files form the unified ensemble.
    /// The groups must cover every class (<see cref="Teachers.SpecialistClasses.DefaultGroups"/> covers each twice).
    /// Paths as in <see cref="Bagging"/>.
    /// </summary>
    public static IEnumerable<GeneratedTeacher> Specialists(ImageDataset data, NetworkSpec spec, IReadOnlyList<Teachers.SpecialistClasses> groups, TrainerOptions options,
        ImageDataset? validation = null, IProgress<(int Teacher, TrainingProgress Progress)>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Count == 0) throw new ArgumentException("Give one or more specialist groups.", nameof(groups));
        foreach (var g in groups)
            if (g.ClassCount != data.ClassCount)
                throw new ArgumentException($"Specialist {g} is for {g.ClassCount} classes; the data has {data.ClassCount}.", nameof(groups));
        try
        {
            Teachers.SpecialistEnsemble.CheckCoverage(groups, groups.Select(g => g.ToString()).ToArray(), data.ClassNames);
        }
        catch (InvalidDataException e)
        {
            throw new ArgumentException(e.Message, nameof(groups), e); // here the groups are a setting, not a file
        }
        return Generate();

        IEnumerable<GeneratedTeacher> Generate()
        {
            for (int k = 0; k < groups.Count; k++)
                yield return TrainOn(groups[k].Relabel(data), null, spec, k, options.Seed + k, options, validation is null ? null : groups[k].Relabel(validation),
                    progress, cancellation) with { Specialist = groups[k] };
        }
    }

    /// <summary>
    /// K teachers, teacher k trained with seed <c>options.Seed + k</c> on a random <paramref name="fraction"/> of
    /// <paramref name="data"/> (drawn without replacement with the same seed). <c>options.MetricsPath</c> and
    /// <c>CheckpointDirectory</c>, when set, get "-{k}" before their extension. With early stopping and no
    /// <paramref name="validation"/> data, each teacher stops on the rows outside its subset.
    /// </summary>
    public static IEnumerable<GeneratedTeacher> Bagging(ImageDataset data, NetworkSpec spec, int count, double fraction, TrainerOptions options,
        ImageDataset? validation = null, IProgress<(int Teacher, TrainingProgress Progress)>? progress = null, CancellationToken cancellation = default)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "Need at least one teacher.");
        if (!(fraction is > 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The fraction must be in (0, 1]."); // NaN fails too
        for (int k = 0; k < count; k++)
        {
            int seed = options.Seed + k;
            var rows = fraction < 1 ? data.RandomSubsetRows(fraction, seed) : null;
            yield return TrainOn(data, rows, spec, k, seed, options, validation, progress, cancellation);
        }
    }

    /// <summary>
    /// Cross-fitting: the rows split (seeded) into <paramref name="folds"/> folds of nearly equal size, teacher k
    /// trained on every fold but k, so each row has exactly one teacher that never saw it; distil with
    /// <see cref="Distillation.DistillationOptions.OutOfBagTeachers"/> and <see cref="InBagMask"/> for soft labels
    /// free of the teachers' overconfidence on their own training images. Seeds and paths as in <see cref="Bagging"/>.
    /// </summary>
    public static IEnumerable<GeneratedTeacher> CrossFit(ImageDataset data, NetworkSpec spec, int folds, TrainerOptions options,
        ImageDataset? validation = null, IProgress<(int Teacher, TrainingProgress Progress)>? progress = null, CancellationToken cancellation = default)
    {
        if (folds < 2) throw new ArgumentOutOfRangeException(nameof(folds), folds, "Cross-fitting needs at least two folds.");
        if (folds > data.Count) throw new ArgumentOutOfRangeException(nameof(folds), folds, $"{folds} folds of {data.Count} images leave a fold empty.");
        var fold = FoldOf(data.Count, folds, options.Seed);
        for (int k = 0; k < folds; k++)
        {
            int teacher = k;
            var rows = Enumerable.Range(0, data.Count).Where(i => fold[i] != teacher).ToArray();
            yield return TrainOn(data, rows, spec, k, options.Seed + k, options, validation, progress, cancellation);
        }
    }

    /// <summary>The fold of each row: a seeded shuffle dealt round-robin into <paramref name="folds"/> folds.</summary>
    public static int[] FoldOf(int rowCount, int folds, int seed)
    {
        var order = Enumerable.Range(0, rowCount).ToArray();
        new Random(seed).Shuffle(order);
        var fold = new int[rowCount];
        for (int i = 0; i < rowCount; i++) fold[order[i]] = i % folds;
        return fold;
    }

    /// <summary>
    /// Whether teacher k trained on row i, [rowCount, K] row-major, for the <see cref="Data.TeacherColumns.InBag"/> column (as 1 and 0). Rows
    /// past the teachers' training data (unlabelled images appended after it) were seen by none.
    /// </summary>
    public static bool[] InBagMask(IReadOnlyList<GeneratedTeacher> teachers, int rowCount, int trainingRowCount)
    {
        int k = teachers.Count;
        var mask = new bool[(long)rowCount * k];
        for (int t = 0; t < k; t++)
        {
            var rows = teachers[t].TrainingRows ?? Enumerable.Range(0, trainingRowCount).ToArray();
            foreach (int r in rows)
                if (r < rowCount) mask[(long)r * k + t] = true;
        }
        return mask;
    }

    private static GeneratedTeacher TrainOn(ImageDataset data, int[]? rows, NetworkSpec spec, int k, int seed, TrainerOptions options,
        ImageDataset? validation, IProgress<(int Teacher, TrainingProgress Progress)>? progress, CancellationToken cancellation)
    {
        var subset = rows is null ? data : data.Subset(rows);
        // MTKD's protocol: a teacher early-stops on the rows it does not train on, unless given validation data.
        if (validation is null && options.EarlyStoppingPatience is not null && rows is not null && rows.Length < data.Count)
        {
            var inBag = rows.ToHashSet();
            validation = data.Subset(Enumerable.Range(0, data.Count).Where(i => !inBag.Contains(i)).ToArray());
        }
        var teacherOptions = options.ForRun($"-{k}");
        teacherOptions.Seed = seed;
        var (network, history) = TrainOne(spec, subset, teacherOptions, validation,
            progress is null ? null : new SynchronousProgress<TrainingProgress>(p => progress.Report((k, p))), cancellation);
        return new GeneratedTeacher(k, network, history, history[^1].ValidationAccuracy) { TrainingRows = rows };
    }

    // Trains one teacher; a network whose training fails is freed here, one that succeeds belongs to the caller.
    private static (SequentialNetwork Network, IReadOnlyList<EpochSummary> History) TrainOne(NetworkSpec spec, ImageDataset data, TrainerOptions options,
        ImageDataset? validation, IProgress<TrainingProgress>? progress, CancellationToken cancellation)
    {
        var network = NetworkTrainer.CreateNetwork(spec, data, options.Seed);
        try
        {
            return (network, NetworkTrainer.TrainSupervised(network, data, options, progress, cancellation, validation));
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// K snapshots of one run of <c>K × epochsPerCycle</c> epochs with a cyclic cosine schedule, one at the end of
    /// each cycle, each a separate network.
    /// </summary>
    public static IReadOnlyList<GeneratedTeacher> Snapshots(ImageDataset data, NetworkSpec spec, int count, int epochsPerCycle, TrainerOptions options,
        ImageDataset? validation = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "Need at least one snapshot.");
        if (epochsPerCycle < 1) throw new ArgumentOutOfRangeException(nameof(epochsPerCycle), epochsPerCycle, "A cycle needs at least one epoch.");
        var runOptions = options.Clone();
        runOptions.Epochs = count * epochsPerCycle;
        runOptions.Schedule = ScheduleKind.CyclicCosine;
        runOptions.CycleEpochs = epochsPerCycle;
        runOptions.WarmupEpochs = 0;
        runOptions.EarlyStoppingPatience = null;

        using var network = NetworkTrainer.CreateNetwork(spec, data, options.Seed);
        var snapshots = new List<GeneratedTeacher>();
        try
        {
            var history = TrainingLoop.Run(network, null, data, validation, runOptions, $"snapshots K={count} cycle={epochsPerCycle}",
                _ => (images, _, labels, mix, _) =>
                {
                    var logits = network.forward(images);
                    using var targets = Distillation.LabelTargets.From(labels, data.ClassCount, mix: mix);
                    return (Distillation.DistillationLoss.HardLoss(logits, targets), logits);
                },
                progress, cancellation,
                afterEpoch: summary =>
                {
                    if (summary.Epoch % epochsPerCycle != 0) return;
                    var snapshot = new SequentialNetwork(spec, data.Channels, data.Height, data.Width, data.ClassCount);
                    using (NewDisposeScope())
                    using (no_grad())
                        snapshot.load_state_dict(network.state_dict());
                    snapshot.eval();
                    snapshots.Add(new GeneratedTeacher(snapshots.Count, snapshot, [], summary.ValidationAccuracy));
                });
            return snapshots.Select(s => s with { History = history.Where(e => (e.Epoch - 1) / epochsPerCycle == s.Index).ToArray() }).ToArray();
        }
        catch
        {
            foreach (var s in snapshots) s.Network.Dispose();
            throw;
        }
    }
}
