using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet.Data;
using Mtkd.Training.Fusion;

namespace Mtkd.MLNet.Tests.Fusion;

/// <summary>
/// The ensemble as a model that saves and loads like any other: ScoreTeachers + FuseTeachers saved to a zip of stock
/// transformers predicts what the fitted chain predicts, in ML.NET with or without Mtkd, and row by row.
/// </summary>
[Collection(TinyFashionMnistCollection.Name)]
public sealed class SavedEnsembleTests(TinyFashionMnist data)
{
    [Theory]
    [InlineData(FusionMethod.MeanProbability)]
    [InlineData(FusionMethod.MaxConfidence)]
    [InlineData(FusionMethod.WeightedAverage)]
    public void The_saved_ensemble_predicts_what_the_fitted_one_predicts(FusionMethod method)
    {
        var ml = new MLContext(seed: 1);
        var test = data.Test.Take(40).ToDataView(ml);
        var ensemble = ml.Transforms.ScoreTeachers(data.TeacherPaths).Append(ml.Transforms.FuseTeachers(method)).Fit(test);
        var path = Path.Combine(data.Directory, $"ensemble-{method}-{Guid.NewGuid():N}.zip");
        ml.Model.Save(ensemble, test.Schema, path);

        var loaded = new MLContext().Model.Load(path, out _);
        var expected = ensemble.Transform(test);
        var actual = loaded.Transform(test);
        Assert.Equal(expected.GetColumn<uint>("PredictedLabel"), actual.GetColumn<uint>("PredictedLabel"));
        var scores = expected.GetColumn<float[]>("Score").Zip(actual.GetColumn<float[]>("Score")).ToArray();
        Assert.All(scores, p => Assert.True(p.First.Zip(p.Second, (a, b) => Math.Abs(a - b)).Max() < 1e-5));
        // The class names travel with the key, as for any ML.NET classifier.
        VBuffer<ReadOnlyMemory<char>> names = default;
        actual.Schema["PredictedLabel"].GetKeyValues(ref names);
        Assert.Equal(data.Test.ClassNames, names.DenseValues().Select(n => n.ToString()));

        // Row by row: a PredictionEngine on the fitted chain and on the loaded zip.
        var image = new FashionImageRow { Features = data.Test.ReadImage(0) };
        var fitted = ml.Model.CreatePredictionEngine<FashionImageRow, ClassPrediction>(ensemble).Predict(image);
        var fromZip = ml.Model.CreatePredictionEngine<FashionImageRow, ClassPrediction>(loaded).Predict(image);
        Assert.Equal(expected.GetColumn<uint>("PredictedLabel").First(), fitted.PredictedLabel);
        Assert.Equal(fitted.PredictedLabel, fromZip.PredictedLabel);
        Assert.True(fitted.Score.Zip(scores[0].First, (a, b) => Math.Abs(a - b)).Max() < 1e-5);
    }

    [Fact]
    public void An_app_without_Mtkd_loads_the_ensemble_and_predicts_the_same()
    {
        var ml = new MLContext(seed: 1);
        var test = data.Test.Take(25);
        var view = test.ToDataView(ml);
        var ensemble = ml.Transforms.ScoreTeachers(data.TeacherPaths).Append(ml.Transforms.FuseTeachers()).Fit(view);
        var lines = ZipConsumerApp.Predict(ml, ensemble, view.Schema, test, data.Directory);
        var scored = ensemble.Transform(view);
        var labels = scored.GetColumn<uint>("PredictedLabel").ToArray();
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        for (int i = 0; i < 25; i++)
        {
            var parts = lines[i];
            Assert.Equal(labels[i], uint.Parse(parts[0]));
            var theirs = parts.Skip(1).Select(p => float.Parse(p, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            Assert.True(scores[i].Zip(theirs, (a, b) => Math.Abs(a - b)).Max() < 1e-5);
        }
    }

    [Fact]
    public void A_ranked_vote_is_refused_when_saved_naming_what_can_be()
    {
        var ml = new MLContext(seed: 1);
        var test = data.Test.Take(10).ToDataView(ml);
        var ensemble = ml.Transforms.ScoreTeachers(data.TeacherPaths).Append(ml.Transforms.FuseTeachers(FusionMethod.Borda)).Fit(test);
        Assert.Equal(10, ensemble.Transform(test).GetColumn<uint>("PredictedLabel").Count()); // in memory it works as before
        var e = Assert.Throws<NotSupportedException>(() => ml.Model.Save(ensemble, test.Schema, Path.Combine(data.Directory, $"borda-{Guid.NewGuid():N}.zip")));
        Assert.Contains("Borda is a ranked vote", e.Message);
        Assert.Contains("MeanProbability, MeanLogit, Product, MaxConfidence or WeightedAverage", e.Message);
    }
}
