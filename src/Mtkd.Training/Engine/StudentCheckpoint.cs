using System.Text.Json;
using Mtkd.Training.Networks;

namespace Mtkd.Training.Engine;

/// <summary>What a checkpoint folder says about its network: enough to rebuild it without the run's settings.</summary>
internal sealed record CheckpointModel(NetworkSpec Spec, int Channels, int Height, int Width, int ClassCount, int Heads, IReadOnlyList<string> ClassNames);

/// <summary>Rebuilds the network saved in a training checkpoint folder, for export or evaluation after (or during) a run.</summary>
internal static class StudentCheckpoint
{
    internal static CheckpointModel Describe(SequentialNetwork network, IReadOnlyList<string> classNames) =>
        new(network.Spec, network.InputShape.Channels, network.InputShape.Height, network.InputShape.Width, network.ClassCount, network.HeadCount, classNames);

    /// <summary>
    /// Loads the network of a checkpoint folder (or of a <c>mtkd distill</c> output folder holding <c>checkpoints/</c>):
    /// the best weights when early stopping kept some, else the last epoch's. The caller disposes the network.
    /// </summary>
    public static (SequentialNetwork Network, CheckpointModel Model) Load(string directory)
    {
        directory = Resolve(directory);
        var modelPath = Path.Combine(directory, TrainingCheckpoint.ModelFile);
        if (!File.Exists(modelPath))
            throw new FileNotFoundException($"No checkpoint in {directory}: expected a mtkd distill output folder (holding checkpoints/), " +
                $"its checkpoints folder (holding the '{TrainingCheckpoint.PointerFile}' file), or an epoch folder (holding " +
                    $"{TrainingCheckpoint.ModelFile} and {TrainingCheckpoint.WeightsFile}).", modelPath);
        var model = TrainingCheckpoint.ReadJson<CheckpointModel>(modelPath);
        TorchRuntime.EnsureLoaded();
        var network = new SequentialNetwork(model.Spec, model.Channels, model.Height, model.Width, model.ClassCount, model.Heads);
        try
        {
            var best = Path.Combine(directory, TrainingCheckpoint.BestFile);
            TrainingCheckpoint.ReadWeights(File.Exists(best) ? best : Path.Combine(directory, TrainingCheckpoint.WeightsFile), path => network.load(path));
            network.eval();
            return (network, model);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Whether the checkpoint also holds companions trained with its network (mutual learning's peers, online ensemble
    /// compression's branches): its network is then only the first of several students.
    /// </summary>
    public static bool HasCompanions(string directory) => File.Exists(Path.Combine(Resolve(directory), TrainingCheckpoint.CompanionsFile));

    // An output folder → its checkpoints/ → the current epoch folder.
    private static string Resolve(string directory)
    {
        if (TrainingCheckpoint.CurrentFolder(directory) is null && Directory.Exists(Path.Combine(directory, "checkpoints")))
            directory = Path.Combine(directory, "checkpoints");
        return TrainingCheckpoint.CurrentFolder(directory) ?? directory;
    }
}
