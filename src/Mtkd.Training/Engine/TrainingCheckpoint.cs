using System.Text.Json;
using Mtkd.Training.Networks;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Engine;

/// <summary>
/// A run's state after an epoch. Each epoch is written whole into its own folder (<c>epoch-NNNN/</c>: the weights
/// last.bin, the optimizer's moments optimizer.bin, the best weights so far best.bin when early stopping is on,
/// the network model.json and the history state.json), which is renamed into place complete; then one pointer
/// file, <c>current</c>, is renamed over the old one to name it, and only then are older epochs removed. So a
/// checkpoint becomes visible all at once: a run killed at any instant resumes from the last epoch whose pointer
/// was written, with that epoch's weights, optimizer and history together. Leftovers of a killed write (a
/// half-written folder or temporary file) are removed by the next run.
/// </summary>
internal sealed class TrainingCheckpoint
{
    internal const string StateFile = "state.json", WeightsFile = "last.bin", OptimizerFile = "optimizer.bin", BestFile = "best.bin", ModelFile = "model.json";
    internal const string CompanionsFile = "companions.bin";
    /// <summary>SHA-256 of every other file of an epoch folder, written last at commit and checked before a file is read.</summary>
    internal const string ChecksumsFile = "checksums.json";
    internal const string PointerFile = "current";
    internal const string FingerprintSeparator = " | ";

    /// <summary>Called after each step of <see cref="Save"/> ("epoch-folder", "pointer"), for tests that kill a save midway.</summary>
    internal static Action<string>? AfterSaveStep;

    private readonly string directory;
    private bool bestIsCurrent;

    public TrainingCheckpoint(string directory)
    {
        this.directory = directory;
        RemoveLeftovers();
    }

    public sealed record State(int EpochsDone, bool Stopped, double? BestMetric, int BestEpoch, List<EpochSummary> History, string Fingerprint);

    /// <summary>
    /// The folder holding a complete checkpoint's files: the one <c>current</c> names; for checkpoints written before
    /// epoch folders, <paramref name="directory"/> itself when it holds state.json; null when there is none.
    /// </summary>
    public static string? CurrentFolder(string directory)
    {
        var pointer = Path.Combine(directory, PointerFile);
        if (File.Exists(pointer))
        {
            var folder = Path.Combine(directory, File.ReadAllText(pointer).Trim());
            return Directory.Exists(folder) ? folder
                : throw new InvalidDataException($"{pointer} names {folder}, which does not exist; the checkpoint was damaged outside Mtkd. Delete {directory} to start over.");
        }
        return File.Exists(Path.Combine(directory, StateFile)) ? directory : null;
    }

    public bool Exists => CurrentFolder(directory) is not null;

    public State Load(SequentialNetwork network, TorchSharp.torch.nn.Module? companions, OptimizerHelper optimizer, string fingerprint)
    {
        var folder = CurrentFolder(directory) ?? throw new FileNotFoundException($"No checkpoint in {directory}.");
        var state = ReadJson<State>(Path.Combine(folder, StateFile));
        if (state.Fingerprint != fingerprint)
            throw new InvalidOperationException(
                $"The checkpoint in {directory} is from another run: {FirstDifference(state.Fingerprint, fingerprint)}. Use another folder, or delete it to start over.");
        ReadWeights(Path.Combine(folder, WeightsFile), path => network.load(path));
        if (companions is not null)
            ReadWeights(Path.Combine(folder, CompanionsFile), path => companions.load(path));
        ReadWeights(Path.Combine(folder, OptimizerFile), path => optimizer.load_state_dict(path));
        return state;
    }

    /// <summary>A checkpoint's JSON file, or an error naming it when it was damaged outside Mtkd.</summary>
    internal static T ReadJson<T>(string path)
    {
        VerifyChecksum(path);
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path)) ?? throw new JsonException("it holds null");
        }
        catch (JsonException e)
        {
            throw Damaged(path, e);
        }
    }

    /// <summary>Loads a checkpoint's weights file, or names it when it is truncated or does not fit the network.</summary>
    internal static void ReadWeights(string path, Action<string> load)
    {
        VerifyChecksum(path);
        try
        {
            load(path);
        }
        catch (Exception e) when (e is IOException and not FileNotFoundException || e is ArgumentException or InvalidOperationException or FormatException)
        {
            throw Damaged(path, e);
        }
    }

    /// <summary>
    /// Refuses a checkpoint file whose content is not what was committed: its SHA-256 against the one its epoch
    /// folder's checksums.json recorded (a flipped byte that still loads would otherwise become a model). Folders
    /// written before checksums existed have none to check.
    /// </summary>
    internal static void VerifyChecksum(string path)
    {
        var checksums = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, ChecksumsFile);
        if (!File.Exists(checksums)) return;
        Dictionary<string, string> recorded;
        try
        {
            recorded = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(checksums)) ?? throw new JsonException("it holds null");
        }
        catch (JsonException e)
        {
            throw Damaged(checksums, e);
        }
        if (!recorded.TryGetValue(Path.GetFileName(path), out var expected))
            throw new InvalidDataException($"{checksums} records no checksum for {Path.GetFileName(path)}; the checkpoint was changed outside Mtkd. Delete its checkpoints folder to start over.");
        if (Sha256(path) != expected)
            throw new InvalidDataException($"{path} does not match the checksum recorded when it was written: it was damaged or changed outside Mtkd, and is " +
                "not used. Delete its checkpoints folder to start over.");
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(stream)).ToLowerInvariant();
    }

    private static InvalidDataException Damaged(string path, Exception e) =>
        new($"{path} is damaged ({e.Message.Split('\n')[0].TrimEnd('.')}); it was changed outside Mtkd. Delete its checkpoints folder to start over.", e);

    // The first item of two fingerprints that differs, and within the options the first setting.
    internal static string FirstDifference(string saved, string now)
    {
        var (a, b) = (saved.Split(FingerprintSeparator), now.Split(FingerprintSeparator));
        for (int i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            string? x = i < a.Length ? a[i] : null, y = i < b.Length ? b[i] : null;
            if (x == y) continue;
            if (x is not null && y is not null && x.StartsWith("options ", StringComparison.Ordinal) && y.StartsWith("options ", StringComparison.Ordinal)
                && FirstDifferentSetting(x["options ".Length..], y["options ".Length..]) is { } setting)
                return setting;
            return $"it has '{x ?? "nothing"}', this run '{y ?? "nothing"}'";
        }
        return "the fingerprints differ";
    }

    private static string? FirstDifferentSetting(string savedJson, string nowJson)
    {
        try
        {
            static Dictionary<string, string> Flat(JsonElement e, string prefix, Dictionary<string, string> into)
            {
                if (e.ValueKind == JsonValueKind.Object)
                    foreach (var p in e.EnumerateObject()) Flat(p.Value, prefix.Length == 0 ? p.Name : $"{prefix}.{p.Name}", into);
                else
                    into[prefix] = e.GetRawText();
                return into;
            }
            using var x = JsonDocument.Parse(savedJson);
            using var y = JsonDocument.Parse(nowJson);
            var (a, b) = (Flat(x.RootElement, "", []), Flat(y.RootElement, "", []));
            foreach (var key in a.Keys.Union(b.Keys))
                if (a.GetValueOrDefault(key) != b.GetValueOrDefault(key))
                    return $"{key} was {a.GetValueOrDefault(key) ?? "absent"}, this run has {b.GetValueOrDefault(key) ?? "absent"}";
        }
        catch (JsonException)
        {
        }
        return null;
    }

    public void LoadBest(SequentialNetwork network) => ReadWeights(Path.Combine(CurrentFolder(directory)!, BestFile), path => network.load(path));

    public bool HasBest => CurrentFolder(directory) is { } folder && File.Exists(Path.Combine(folder, BestFile));

    /// <summary>The network's weights now are the best so far: the next <see cref="Save"/> writes them as best.bin.</summary>
    public void MarkBest() => bestIsCurrent = true;

    public void Save(SequentialNetwork network, TorchSharp.torch.nn.Module? companions, OptimizerHelper optimizer, State state, IReadOnlyList<string> classNames)
    {
        Directory.CreateDirectory(directory);
        string name = $"epoch-{state.EpochsDone:D4}", staging = Path.Combine(directory, $".{name}.{Environment.ProcessId}.tmp");
        var previous = CurrentFolder(directory);
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        File.WriteAllText(Path.Combine(staging, ModelFile), JsonSerializer.Serialize(StudentCheckpoint.Describe(network, classNames)));
        network.save(Path.Combine(staging, WeightsFile));
        companions?.save(Path.Combine(staging, CompanionsFile));
        optimizer.save_state_dict(Path.Combine(staging, OptimizerFile));
        if (bestIsCurrent)
            network.save(Path.Combine(staging, BestFile));
        else if (previous is not null && File.Exists(Path.Combine(previous, BestFile)))
        {
            VerifyChecksum(Path.Combine(previous, BestFile)); // a damaged best.bin must not be carried on under a new checksum
            File.Copy(Path.Combine(previous, BestFile), Path.Combine(staging, BestFile));
        }
        File.WriteAllText(Path.Combine(staging, StateFile), JsonSerializer.Serialize(state));
        File.WriteAllText(Path.Combine(staging, ChecksumsFile), JsonSerializer.Serialize(
            Directory.EnumerateFiles(staging).Order(StringComparer.Ordinal).ToDictionary(f => Path.GetFileName(f), Sha256)));
        FlushFolder(staging);

        var target = Path.Combine(directory, name); // a new epoch: the pointer names an older one
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true); // renamed once before, its pointer never written
        Directory.Move(staging, target);
        AfterSaveStep?.Invoke("epoch-folder");
        AtomicFile.WriteAllText(Path.Combine(directory, PointerFile), Path.GetFileName(target)); // the commit
        AfterSaveStep?.Invoke("pointer");
        bestIsCurrent = false;
        RemoveOlderThan(Path.GetFileName(target));
    }

    // Data first, then the name: without the fsyncs a power cut could leave a renamed folder of empty files.
    private static void FlushFolder(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
            stream.Flush(flushToDisk: true);
        }
    }

    private void RemoveOlderThan(string keep)
    {
        foreach (var folder in Directory.EnumerateDirectories(directory, "epoch-*"))
            if (Path.GetFileName(folder) != keep)
                Directory.Delete(folder, recursive: true);
        foreach (var legacy in new[] { StateFile, WeightsFile, OptimizerFile, BestFile, ModelFile, CompanionsFile, ChecksumsFile })
            if (File.Exists(Path.Combine(directory, legacy)))
                File.Delete(Path.Combine(directory, legacy));
    }

    // A killed save leaves a staging folder or temporary file (never the pointer's target, which is complete).
    private void RemoveLeftovers()
    {
        if (!Directory.Exists(directory)) return;
        foreach (var folder in Directory.EnumerateDirectories(directory, ".*.tmp"))
            Directory.Delete(folder, recursive: true);
        foreach (var file in Directory.EnumerateFiles(directory, "*.tmp"))
            File.Delete(file);
        var current = CurrentFolder(directory) is { } folder0 ? Path.GetFullPath(folder0) : null;
        foreach (var folder in Directory.EnumerateDirectories(directory, "epoch-*"))
            if (Path.GetFullPath(folder) != current)
                    Directory.Delete(folder, recursive: true); // renamed into place, but its pointer was never written
    }
}
