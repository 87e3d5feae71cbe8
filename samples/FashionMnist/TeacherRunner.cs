using System.Globalization;
using Mtkd.Training.Data;
using Mtkd.Training.Fusion;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Engine;
using Mtkd.Training.Teachers;

namespace Mtkd.Samples.FashionMnist;

/// <summary>One teacher: the k-th of a recipe's K, for a seed and a number of labelled images.</summary>
public sealed record TeacherId(TeacherRecipe Recipe, int Labels, int Seed, int K)
{
    /// <summary>Its seed: weights, subset and augmentation.</summary>
    public int TeacherSeed => Seed * 1000 + K;
}

/// <summary>Trains (or takes from the cache) teachers on a random share of the labelled images, early-stopped on the rest, and scores them.</summary>
public sealed class TeacherRunner(StudyData data, ResultCache cache, IStudyLog log)
{
    public string Folder(TeacherId t) => cache.Folder("teachers",
        string.Create(CultureInfo.InvariantCulture, $"{t.Recipe.Architecture}{t.Recipe.Width}-n{t.Labels}-s{t.Seed}-t{t.K}"), Key(t));

    private string Key(TeacherId t) => string.Create(CultureInfo.InvariantCulture,
        $"teacher {t.Recipe.Key} labels={t.Labels} test={data.Test.Count} seed={t.TeacherSeed}");

    public NetworkSpec Spec(TeacherRecipe recipe) => NetworkPresets.Get(recipe.Architecture, recipe.Width);

    /// <summary>The rows of the labelled images the teacher trains on (the rest validate it).</summary>
    public int[] TrainingRows(TeacherId t) => data.Labeled(t.Labels).RandomSubsetRows(t.Recipe.Fraction, t.TeacherSeed).Order().ToArray();

    public TeacherResult Result(TeacherId t)
    {
        var folder = Folder(t);
        var resultPath = Path.Combine(folder, "result.json");
        if (ResultCache.TryRead<TeacherResult>(resultPath) is { } cached) return cached;

        ResultCache.Prepare(folder, Key(t));
        // A specialist learns its classes and "other" (the relabelled images); every figure of it is on its own outputs.
        var specialist = t.Recipe.SpecialistOf(t.K, data.Test.ClassCount);
        var labeled = specialist?.Relabel(data.Labeled(t.Labels)) ?? data.Labeled(t.Labels);
        var test = specialist?.Relabel(data.Test) ?? data.Test;
        var rows = TrainingRows(t);
        var inBag = rows.ToHashSet();
        var train = labeled.Subset(rows);
        // A teacher on every labelled image has nothing left to early-stop on: it trains its full epochs.
        var validation = rows.Length < labeled.Count ? labeled.Subset(Enumerable.Range(0, labeled.Count).Where(i => !inBag.Contains(i)).ToArray()) : null;
        var options = new TrainerOptions
        {
            Epochs = t.Recipe.MaxEpochs, Seed = t.TeacherSeed, Schedule = ScheduleKind.Cosine,
            EarlyStoppingPatience = validation is null || t.Recipe.Patience == 0 ? null : t.Recipe.Patience, EarlyStoppingMetric = EarlyStoppingMetric.ValidationAccuracy,
            Augmentation = new AugmentationOptions { ShiftPixels = 2, HorizontalFlip = true, RandAugmentOps = t.Recipe.RandAugmentOps }, MetricsPath = Path.Combine(folder, "metrics.csv"),
        };
        log.Line($"teacher {t.K} ({t.Recipe.Architecture} w{t.Recipe.Width}, {t.Labels:N0} labels, seed {t.Seed}): {train.Count:N0} images, validation {validation?.Count ?? 0:N0}");
        using var network = NetworkTrainer.CreateNetwork(Spec(t.Recipe), train, t.TeacherSeed);
        var started = DateTime.UtcNow;
        var history = NetworkTrainer.TrainSupervised(network, train, options, log.Progress("teacher"), validation: validation);
        double seconds = (DateTime.UtcNow - started).TotalSeconds;

        network.save(Path.Combine(folder, "weights.bin"));
        OnnxExporter.Export(network, Path.Combine(folder, "model.onnx"), new OnnxExportOptions { FoldBatchNorm = true, ProbabilitiesName = null, Specialist = specialist });
        var testLogits = NetworkTrainer.PredictLogits(network, test);
        FloatFile.Write(Path.Combine(folder, "test-logits.bin"), testLogits);
        var result = new TeacherResult(t.K, t.Seed, SoftLabelAccuracy.Teacher(testLogits, test.Labels, teacherCount: 1, test.ClassCount, teacher: 0),
            network.ParameterCount, network.Complexity.MultiplyAccumulates, seconds, history.Count, (long)history.Count * train.Count);
        ResultCache.Write(resultPath, result);
        log.Line($"teacher {t.K}: {result.TestAccuracy:P2} after {history.Count} epochs in {seconds:F0} s");
        return result;
    }

    /// <summary>The trained teacher as a network (the caller disposes it).</summary>
    public SequentialNetwork Load(TeacherId t)
    {
        Result(t);
        var test = t.Recipe.SpecialistOf(t.K, data.Test.ClassCount)?.Relabel(data.Test) ?? data.Test;
        var network = NetworkTrainer.CreateNetwork(Spec(t.Recipe), test, t.TeacherSeed);
        network.load(Path.Combine(Folder(t), "weights.bin"));
        network.eval();
        return network;
    }

    public float[] TestLogits(TeacherId t) =>
        FloatFile.Read(Path.Combine(Folder(t), "test-logits.bin"), (long)data.Test.Count * (t.Recipe.SpecialistOf(t.K, data.Test.ClassCount)?.OutputCount ?? data.Test.ClassCount));

    /// <summary>The teacher's logits on the clean images of <paramref name="images"/>, cached under <paramref name="name"/>.</summary>
    public float[] Logits(TeacherId t, ImageDataset images, string name)
    {
        var path = Path.Combine(Folder(t), $"logits-{name}.bin");
        long count = (long)images.Count * images.ClassCount;
        if (File.Exists(path)) return FloatFile.Read(path, count);
        using var network = Load(t);
        var logits = NetworkTrainer.PredictLogits(network, images);
        FloatFile.Write(path, logits);
        return logits;
    }

    public string OnnxPath(TeacherId t) => Path.Combine(Folder(t), "model.onnx");
}
