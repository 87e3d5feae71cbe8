using System.Globalization;
using Mtkd.Training.Data;
using Mtkd.Training.Ensembles;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Training;
using static TorchSharp.torch;

namespace Mtkd.Samples.FashionMnist;

/// <summary>Trains (or takes from the cache) one bagged teacher, and scores it on the test set and on a seed's pool of views.</summary>
public sealed class TeacherRunner(StudyProfile profile, StudyData data, ResultCache cache, IStudyLog log)
{
    public NetworkSpec Spec { get; } = NetworkPresets.Get(profile.TeacherArchitecture, profile.TeacherWidth);

    public string Folder(TeacherSet set, int k) =>
        cache.Folder("teachers", string.Create(CultureInfo.InvariantCulture, $"f{set.Fraction}-s{set.Seed}-t{k}"), Key(set, k));

    // Every setting that shapes the teacher.
    private string Key(TeacherSet set, int k) => string.Create(CultureInfo.InvariantCulture,
        $"teacher {Spec.Name} width={profile.TeacherWidth} epochs={profile.TeacherEpochs} train={data.Train.Count} test={data.Test.Count} " +
        $"fraction={set.Fraction} seed={set.TeacherSeed(k)} shift={profile.Augmentation.ShiftPixels} flip={profile.Augmentation.HorizontalFlip} " +
        $"adam lr=0.002 cosine batch=128");

    public TeacherResult Result(TeacherSet set, int k)
    {
        var folder = Folder(set, k);
        var resultPath = Path.Combine(folder, "result.json");
        if (ResultCache.TryRead<TeacherResult>(resultPath) is { } cached) return cached;

        ResultCache.Prepare(folder, Key(set, k));
        int seed = set.TeacherSeed(k);
        var subset = set.Fraction < 1 ? data.Train.RandomSubset(set.Fraction, seed) : data.Train;
        var options = new TrainerOptions
        {
            Epochs = profile.TeacherEpochs, Seed = seed, Schedule = ScheduleKind.Cosine, Augmentation = profile.Augmentation,
            MetricsPath = Path.Combine(folder, "metrics.csv"),
        };
        log.Line($"teacher {k} of {set}: training on {subset.Count:N0} images for {profile.TeacherEpochs} epochs");
        using var network = NetworkTrainer.CreateNetwork(Spec, data.Train, seed);
        var started = DateTime.UtcNow;
        var history = NetworkTrainer.TrainSupervised(network, subset, options, log.Progress("teacher"), validation: data.Test);
        double seconds = (DateTime.UtcNow - started).TotalSeconds;

        network.save(Path.Combine(folder, "weights.bin"));
        OnnxExporter.Export(network, Path.Combine(folder, "model.onnx"), new OnnxExportOptions { FoldBatchNorm = true, ProbabilitiesName = null });
        var testLogits = NetworkTrainer.PredictLogits(network, data.Test);
        FloatFile.Write(Path.Combine(folder, "test-logits.bin"), testLogits);
        var result = new TeacherResult(k, set.Fraction, set.Seed,
            SoftLabelAccuracy.Teacher(testLogits, data.Test.Labels, teacherCount: 1, data.Test.ClassCount, teacher: 0), network.ParameterCount,
            network.Complexity.MultiplyAccumulates, seconds, History(history));
        ResultCache.Write(resultPath, result);
        log.Line($"teacher {k} of {set}: {result.TestAccuracy:P2} in {seconds:F0} s");
        return result;
    }

    /// <summary>A trained teacher's test-set logits, as cached when it was trained.</summary>
    public float[] TestLogits(TeacherSet set, int k) =>
        FloatFile.Read(Path.Combine(Folder(set, k), "test-logits.bin"), (long)data.Test.Count * data.Test.ClassCount);

    /// <summary>The teacher's logits on every image of <paramref name="views"/>, computed once per pool.</summary>
    public float[] ViewLogits(TeacherSet set, int k, ImageDataset views, string poolName)
    {
        Result(set, k);
        var folder = Folder(set, k);
        var path = Path.Combine(folder, $"views-{poolName}.bin");
        long count = (long)views.Count * views.ClassCount;
        if (File.Exists(path)) return FloatFile.Read(path, count);
        using var network = NetworkTrainer.CreateNetwork(Spec, data.Train, set.TeacherSeed(k));
        network.load(Path.Combine(folder, "weights.bin"));
        var logits = NetworkTrainer.PredictLogits(network, views);
        FloatFile.Write(path, logits);
        return logits;
    }

    public string OnnxPath(TeacherSet set, int k) => Path.Combine(Folder(set, k), "model.onnx");

    internal static EpochPoint[] History(IReadOnlyList<EpochSummary> history) =>
        history.Select(e => new EpochPoint(e.Epoch, e.MeanLoss, e.TrainAccuracy, e.ValidationAccuracy ?? double.NaN, e.Seconds)).ToArray();
}
