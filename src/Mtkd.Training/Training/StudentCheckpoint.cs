using System.Text.Json;
using Mtkd.Training.Networks;

namespace Mtkd.Training.Training;

/// <summary>What a checkpoint folder says about its network: enough to rebuild it without the run's settings.</summary>
public sealed record CheckpointModel(NetworkSpec Spec, int Channels, int Height, int Width, int ClassCount, int Heads, IReadOnlyList<string> ClassNames);

/// <summary>Rebuilds the network saved in a training checkpoint folder, for export or evaluation after (or during) a run.</summary>
public static class StudentCheckpoint
{
    internal static CheckpointModel Describe(SequentialNetwork network, IReadOnlyList<string> classNames) =>
        new(network.Spec, network.InputShape.Channels, network.InputShape.Height, network.InputShape.Width, network.ClassCount, network.HeadCount, classNames);

    /// <summary>
    /// Loads the network of a checkpoint folder (or of a <c>mtkd distill</c> output folder holding <c>checkpoints/</c>):
    /// the best weights when early stopping kept some, else the last epoch's. The caller disposes the network.
    /// </summary>
    public static (SequentialNetwork Network, CheckpointModel Model) Load(string directory)
    {
        if (TrainingCheckpoint.CurrentFolder(directory) is null && Directory.Exists(Path.Combine(directory, "checkpoints")))
            directory = Path.Combine(directory, "checkpoints");
        directory = TrainingCheckpoint.CurrentFolder(directory) ?? directory;
        var modelPath = Path.Combine(directory, TrainingCheckpoint.ModelFile);
        if (!File.Exists(modelPath))
            throw new FileNotFoundException($"No checkpoint in {directory}: expected {TrainingCheckpoint.ModelFile} and {TrainingCheckpoint.WeightsFile} (written by mtkd distill after every epoch).", modelPath);
        var model = JsonSerializer.Deserialize<CheckpointModel>(File.ReadAllText(modelPath))
            ?? throw new InvalidDataException($"{modelPath} is empty.");
        TorchRuntime.EnsureLoaded();
        var network = new SequentialNetwork(model.Spec, model.Channels, model.Height, model.Width, model.ClassCount, model.Heads);
        try
        {
            var best = Path.Combine(directory, TrainingCheckpoint.BestFile);
            network.load(File.Exists(best) ? best : Path.Combine(directory, TrainingCheckpoint.WeightsFile));
            network.eval();
            return (network, model);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }
}
