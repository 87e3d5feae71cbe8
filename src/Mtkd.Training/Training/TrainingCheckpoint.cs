using System.Text.Json;
using Mtkd.Training.Networks;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Training;

/// <summary>
/// A run's state after an epoch, in a folder: the weights (last.bin), the optimizer's moments (optimizer.bin), the
/// best weights so far when early stopping is on (best.bin), and the history (state.json, written last, so a
/// checkpoint counts only once it is complete). Every file is written beside its target and renamed into place.
/// </summary>
internal sealed class TrainingCheckpoint(string directory)
{
    internal const string StateFile = "state.json", WeightsFile = "last.bin", OptimizerFile = "optimizer.bin", BestFile = "best.bin", ModelFile = "model.json";

    public sealed record State(int EpochsDone, bool Stopped, double? BestMetric, int BestEpoch, List<EpochSummary> History, string Fingerprint);

    public bool Exists => File.Exists(Path.Combine(directory, StateFile));

    public State Load(SequentialNetwork network, OptimizerHelper optimizer, string fingerprint)
    {
        var path = Path.Combine(directory, StateFile);
        var state = JsonSerializer.Deserialize<State>(File.ReadAllText(path))
            ?? throw new InvalidDataException($"{path} is empty.");
        if (state.Fingerprint != fingerprint)
            throw new InvalidOperationException(
                $"The checkpoint in {directory} is from a run with other settings ({state.Fingerprint}); this run has ({fingerprint}). Use another folder, or delete it to start over.");
        network.load(Path.Combine(directory, WeightsFile));
        optimizer.load_state_dict(Path.Combine(directory, OptimizerFile));
        return state;
    }

    public void LoadBest(SequentialNetwork network) => network.load(Path.Combine(directory, BestFile));

    public bool HasBest => File.Exists(Path.Combine(directory, BestFile));

    public void Save(SequentialNetwork network, OptimizerHelper optimizer, State state, IReadOnlyList<string> classNames)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, ModelFile), JsonSerializer.Serialize(StudentCheckpoint.Describe(network, classNames)));
        Replace(WeightsFile, temp => network.save(temp));
        Replace(OptimizerFile, temp => optimizer.save_state_dict(temp));
        AtomicFile.WriteAllText(Path.Combine(directory, StateFile), JsonSerializer.Serialize(state));
    }

    public void SaveBest(SequentialNetwork network)
    {
        Directory.CreateDirectory(directory);
        Replace(BestFile, temp => network.save(temp));
    }

    private void Replace(string name, Action<string> write)
    {
        var target = Path.Combine(directory, name);
        var temp = Path.Combine(directory, $".{name}.{Environment.ProcessId}.tmp");
        try
        {
            write(temp);
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
