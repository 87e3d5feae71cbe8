using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet;
using Mtkd.MLNet.Data;
using Mtkd.MLNet.Fusion;
using Mtkd.MLNet.SoftLabels;
using Mtkd.Training.Fusion;
using Mtkd.Training.SoftLabels;

namespace Mtkd.MLNet.Tests.SoftLabels;

/// <summary>Real teachers on real Fashion-MNIST images: scored, saved, loaded back, and fused into an ensemble ML.NET can evaluate.</summary>
[Collection(TinyFashionMnistCollection.Name)]
public sealed class SoftLabelPipelineTests : IDisposable
{
    private readonly TinyFashionMnist data;
    private readonly MLContext ml = new(seed: 1);
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-pipeline-").FullName;
    private readonly IDataView scored;

    public SoftLabelPipelineTests(TinyFashionMnist data)
    {
        this.data = data;
        var test = data.Test.ToDataView(ml);
        scored = ml.Transforms.ScoreTeachers(data.TeacherPaths).Fit(test).Transform(test);
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Theory]
    [InlineData("soft.parquet")]
    [InlineData("soft.csv")]
    public void Saved_soft_labels_load_back_as_the_same_columns(string name)
    {
        var path = Path.Combine(directory, name);
        var summary = ml.Data.SaveAsSoftLabels(scored, path);
        Assert.Equal(300, summary.RowCount);
        Assert.Equal(2, summary.TeacherCount);
        Assert.Equal(10, summary.ClassCount);
        Assert.True(summary.BytesPerRow > 0);

        var loaded = ml.Data.LoadSoftLabels(path);
        Assert.Equal(scored.GetColumn<float[]>("TeacherLogits").SelectMany(r => r), loaded.GetColumn<float[]>("TeacherLogits").SelectMany(r => r));
        Assert.Equal(scored.GetColumn<uint>("Label"), loaded.GetColumn<uint>("Label"));
        Assert.Equal(Enumerable.Range(0, 300).Select(i => (long)i), loaded.GetColumn<long>("Index"));
        if (name.EndsWith(".parquet"))
        {
            VBuffer<ReadOnlyMemory<char>> keys = default;
            loaded.Schema["Label"].GetKeyValues(ref keys);
            Assert.Equal(data.Test.ClassNames, keys.DenseValues().Select(k => k.ToString()));
            var file = SoftLabelFile.Read(path);
            Assert.Equal(data.TeacherPaths, file.Header.TeacherNames);
        }
    }

    [Fact]
    public void Top_k_soft_labels_keep_each_teachers_prediction()
    {
        var path = Path.Combine(directory, "top3.parquet");
        var summary = ml.Data.SaveAsSoftLabels(scored, path, new SoftLabelSaveOptions { TopK = 3 });
        var full = ml.Data.SaveAsSoftLabels(scored, Path.Combine(directory, "full.parquet"));
        Assert.True(summary.BytesPerRow < full.BytesPerRow, $"top-3: {summary.BytesPerRow:F1} B/row, full: {full.BytesPerRow:F1} B/row");
        var original = SoftLabelFile.Read(Path.Combine(directory, "full.parquet"));
        var restored = SoftLabelFile.Read(path);
        for (int t = 0; t < 2; t++)
            Assert.Equal(SoftLabelAccuracy.Teacher(original.Logits, original.Labels, 2, 10, t), SoftLabelAccuracy.Teacher(restored.Logits, restored.Labels, 2, 10, t));

        // k at or above the class count keeps every logit, and the summary says so instead of "top-20".
        var all = ml.Data.SaveAsSoftLabels(scored, Path.Combine(directory, "top20.parquet"), new SoftLabelSaveOptions { TopK = 20 });
        Assert.Equal(0, all.TopK);
        Assert.Equal(original.Logits, SoftLabelFile.Read(Path.Combine(directory, "top20.parquet")).Logits);
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Evaluate_measures_the_fused_ensemble(FusionMethod method)
    {
        var path = Path.Combine(directory, "soft.parquet");
        ml.Data.SaveAsSoftLabels(scored, path);
        var loaded = ml.Data.LoadSoftLabels(path);
        var fusion = ml.Transforms.FuseTeachers(method).Fit(loaded);
        var fused = fusion.Transform(loaded);
        var metrics = ml.MulticlassClassification.Evaluate(fused);

        // The same accuracy counted directly from the file with the fusion method, and from the PredictedLabel column.
        var set = SoftLabelFile.Read(path);
        var weights = method == FusionMethod.WeightedAverage ? TeacherWeights.FromAccuracy(set.Logits, set.Labels, 2, 10) : null;
        var direct = new EnsembleFusion(method, 2, 10, weights);
        var score = new float[10];
        int correct = Enumerable.Range(0, set.RowCount).Count(i => direct.Fuse(set.Row(i), score) == set.Labels[i]);
        Assert.Equal(correct / 300.0, metrics.MicroAccuracy, 10);
        var predicted = fused.GetColumn<uint>("PredictedLabel").ToArray();
        var labels = fused.GetColumn<uint>("Label").ToArray();
        Assert.Equal(correct, predicted.Zip(labels).Count(p => p.First == p.Second));
        if (method == FusionMethod.MeanProbability)
            Assert.Equal(SoftLabelAccuracy.MeanProbability(set.Logits, set.Labels, 2, 10), metrics.MicroAccuracy, 10);
        if (method == FusionMethod.WeightedAverage)
            Assert.Equal(weights!, fusion.Weights!);

        VBuffer<ReadOnlyMemory<char>> keys = default;
        fused.Schema["PredictedLabel"].GetKeyValues(ref keys);
        Assert.Equal(data.Test.ClassNames, keys.DenseValues().Select(k => k.ToString()));
    }

    public static TheoryData<FusionMethod> Methods() => new(Enum.GetValues<FusionMethod>());

    [Fact]
    public void Fusing_works_straight_on_scored_data()
    {
        var fused = ml.Transforms.FuseTeachers().Fit(scored).Transform(scored);
        var metrics = ml.MulticlassClassification.Evaluate(fused);
        var logits = scored.GetColumn<float[]>("TeacherLogits").SelectMany(r => r).ToArray();
        var labels = scored.GetColumn<uint>("Label").Select(k => (int)k - 1).ToArray();
        Assert.Equal(SoftLabelAccuracy.MeanProbability(logits, labels, 2, 10), metrics.MicroAccuracy, 10);
        Assert.True(metrics.MicroAccuracy > 0.2, $"ensemble accuracy {metrics.MicroAccuracy} is near chance (0.1)");
    }

    [Fact]
    public void Weighted_fusion_without_labels_is_refused_with_the_column_named()
    {
        var unlabelled = ml.Transforms.DropColumns("Label").Fit(scored).Transform(scored);
        var ex = Assert.Throws<ArgumentException>(() => ml.Transforms.FuseTeachers(FusionMethod.WeightedAverage).Fit(unlabelled));
        Assert.Contains("'Label'", ex.Message);
        var weighted = ml.Transforms.FuseTeachers(new TeacherFusionEstimator.Options { Method = FusionMethod.WeightedAverage, Weights = [1, 3] }).Fit(unlabelled);
        Assert.Equal([1.0, 3.0], weighted.Weights!);
    }
}
