using Mtkd.Training.Data;
using Mtkd.Training.Networks;
using static TorchSharp.torch;

namespace Mtkd.Training.Training;

/// <summary>One generated teacher: its network (the caller disposes it), its training history and, with validation data, its accuracy there.</summary>
public sealed record GeneratedTeacher(int Index, SequentialNetwork Network, IReadOnlyList<EpochSummary> History, double? ValidationAccuracy);

/// <summary>
/// The source method's quick generation of submodels: bagging (K teachers, each on its own random subset of
/// the training data) and snapshot ensembles (one run with a cyclic cosine schedule, a snapshot at the end of
/// each cycle; Huang et al. 2017).
/// </summary>
public static class TeacherGeneration
{
    /// <summary>
    /// K teachers, teacher k trained with seed <c>options.Seed + k</c> on a random <paramref name="fraction"/> of
    /// <paramref name="data"/> (drawn without replacement with the same seed). <c>options.MetricsPath</c> and
    /// <c>CheckpointDirectory</c>, when set, get "-{k}" before their extension.
    /// </summary>
    public static IEnumerable<GeneratedTeacher> Bagging(ImageDataset data, NetworkSpec spec, int count, double fraction, TrainerOptions options,
        ImageDataset? validation = null, IProgress<(int Teacher, TrainingProgress Progress)>? progress = null, CancellationToken cancellation = default)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "Need at least one teacher.");
        if (fraction is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The fraction must be in (0, 1].");
        for (int k = 0; k < count; k++)
        {
            int seed = options.Seed + k;
            var subset = fraction < 1 ? data.RandomSubset(fraction, seed) : data;
            var teacherOptions = Copy(options, seed, Suffixed(options.MetricsPath, k), Suffixed(options.CheckpointDirectory, k));
            int teacher = k;
            var (network, history) = TrainOne(spec, subset, teacherOptions, validation,
                progress is null ? null : new SynchronousProgress<TrainingProgress>(p => progress.Report((teacher, p))), cancellation);
            yield return new GeneratedTeacher(k, network, history, history[^1].ValidationAccuracy);
        }
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
        var runOptions = Copy(options, options.Seed, options.MetricsPath, options.CheckpointDirectory);
        runOptions.Epochs = count * epochsPerCycle;
        runOptions.Schedule = ScheduleKind.CyclicCosine;
        runOptions.CycleEpochs = epochsPerCycle;
        runOptions.WarmupEpochs = 0;
        runOptions.EarlyStoppingPatience = null;

        using var network = NetworkTrainer.CreateNetwork(spec, data, options.Seed);
        var snapshots = new List<GeneratedTeacher>();
        try
        {
            var history = TrainingLoop.Run(network, data, validation, runOptions, $"snapshots K={count} cycle={epochsPerCycle}",
                _ => (images, _, labels) =>
                {
                    var logits = network.forward(images);
                    return (nn.functional.cross_entropy(logits, labels), logits);
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

    private static string? Suffixed(string? path, int k) =>
        path is null ? null : Path.Combine(Path.GetDirectoryName(path) ?? "", $"{Path.GetFileNameWithoutExtension(path)}-{k}{Path.GetExtension(path)}");

    private static TrainerOptions Copy(TrainerOptions options, int seed, string? metrics, string? checkpoints)
    {
        var copy = options.Clone();
        copy.Seed = seed;
        copy.MetricsPath = metrics;
        copy.CheckpointDirectory = checkpoints;
        return copy;
    }
}
