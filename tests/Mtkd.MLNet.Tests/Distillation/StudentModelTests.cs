using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet;
using Mtkd.MLNet.Data;
using Mtkd.MLNet.Distillation;

namespace Mtkd.MLNet.Tests.Distillation;

[Collection(TinyFashionMnistCollection.Name)]
public sealed class StudentModelTests(TinyFashionMnist data)
{
    private (MLContext Context, StudentTransformer Student, IDataView Test) Distill()
    {
        var mlContext = new MLContext(seed: 1);
        var pipeline = mlContext.Transforms.ScoreTeachers(data.TeacherPaths)
            .Append(mlContext.MulticlassClassification.Trainers.MultiTeacherDistillation(new MultiTeacherDistillationOptions { Trainer = { Epochs = 1 } }));
        var model = pipeline.Fit(data.Train.ToDataView(mlContext));
        return (mlContext, model.LastTransformer, data.Test.ToDataView(mlContext));
    }

    private static float[][] Scores(IDataView scored)
    {
        var column = scored.Schema["Score"];
        var rows = new List<float[]>();
        using var cursor = scored.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> value = default;
        while (cursor.MoveNext())
        {
            getter(ref value);
            rows.Add(value.DenseValues().ToArray());
        }
        return rows.ToArray();
    }

    [Fact]
    public void StudentAddsScoreAndScalarKeyPredictedLabelAndEvaluates()
    {
        var (mlContext, student, test) = Distill();
        var scored = student.Transform(test);

        var score = Assert.IsType<VectorDataViewType>(scored.Schema["Score"].Type);
        Assert.Equal(10, score.Size);
        var predicted = Assert.IsType<KeyDataViewType>(scored.Schema["PredictedLabel"].Type);
        Assert.Equal(10UL, predicted.Count);
        foreach (var row in Scores(scored))
            Assert.Equal(1.0, row.Sum(), 1e-4);

        var metrics = mlContext.MulticlassClassification.Evaluate(scored);
        Assert.InRange(metrics.MicroAccuracy, 0.3, 1.0); // one epoch on 600 images; chance is 0.1
    }

    [Fact]
    public void SavedZipLoadsInAFreshContextWithIdenticalScores()
    {
        var (mlContext, student, test) = Distill();
        var path = Path.Combine(data.Directory, $"student-{Guid.NewGuid():N}.zip");
        mlContext.Model.Save(student, test.Schema, path);

        var fresh = new MLContext();
        var loaded = fresh.Model.Load(path, out var inputSchema);
        var freshTest = data.Test.ToDataView(fresh);

        Assert.Equal(test.Schema["Features"].Type, inputSchema["Features"].Type);
        Assert.Equal(Scores(student.Transform(test)), Scores(loaded.Transform(freshTest)));
        var labelKeys = loaded.Transform(freshTest).Schema["PredictedLabel"];
        VBuffer<ReadOnlyMemory<char>> names = default;
        labelKeys.GetKeyValues(ref names);
        Assert.Equal("Ankle boot", names.DenseValues().Last().ToString());
    }

    [Fact]
    public void OnlineEnsembleCompressionGivesEveryWidthAsATransformerTheNarrowestFirstInLine()
    {
        var mlContext = new MLContext(seed: 1);
        var student = mlContext.MulticlassClassification.Trainers.MultiTeacherDistillation(new MultiTeacherDistillationOptions
        {
            Trainer = { Epochs = 1 }, Distillation = { Method = new Mtkd.Training.Distillation.Methods.OnlineEnsemble { Widths = [1, 0.5] } },
        }).Fit(data.Train.ToDataView(mlContext));
        Assert.Equal("cnn-small-w0.5", student.Network.Name);
        Assert.Equal(["cnn-small", "cnn-small-w0.5"], student.Students.Select(s => s.Network.Name));
        Assert.Same(student, student.Students[1]);
        var test = data.Test.ToDataView(mlContext);
        foreach (var width in student.Students)
            Assert.All(Scores(width.Transform(test)), row => Assert.Equal(1.0, row.Sum(), 4)); // each scores every class on its own
        Assert.NotEqual(Scores(student.Students[0].Transform(test))[0], Scores(student.Transform(test))[0]); // two models

        // The branch ensemble as one model: softmax of the mean of the widths' logits, saved and loaded like the student.
        var ensemble = student.StudentEnsemble!;
        Assert.Same(ensemble, student.Students[0].StudentEnsemble);
        var logits = student.Students.Select(s => s.Transform(test).GetColumn<float[]>(StudentTransformer.LogitsColumnName).ToArray()).ToArray();
        var together = Scores(ensemble.Transform(test));
        for (int i = 0; i < together.Length; i++)
        {
            var mean = Enumerable.Range(0, 10).Select(c => (logits[0][i][c] + logits[1][i][c]) / 2.0).ToArray();
            double max = mean.Max(), sum = mean.Sum(v => Math.Exp(v - max));
            for (int c = 0; c < 10; c++) Assert.Equal(Math.Exp(mean[c] - max) / sum, together[i][c], 4);
        }
        var path = Path.Combine(data.Directory, $"branches-{Guid.NewGuid():N}.zip");
        mlContext.Model.Save(ensemble, test.Schema, path);
        Assert.Equal(together, Scores(new MLContext().Model.Load(path, out _).Transform(test)));
        Assert.Null(Distill().Student.StudentEnsemble); // one student: no ensemble
    }

    [Fact]
    public void StandaloneOnnxIsWrittenAndLoads()
    {
        var (_, student, _) = Distill();
        var path = Path.Combine(data.Directory, $"student-{Guid.NewGuid():N}.onnx");
        student.SaveOnnx(path);

        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
        Assert.Equal(["logits", "probabilities"], session.OutputMetadata.Keys.Order());
        Assert.True(student.ParameterCount < 20_000);
    }

    [Fact]
    public void TeacherScoringBatchesAndKeepsOtherColumns()
    {
        var mlContext = new MLContext();
        var view = data.Test.ToDataView(mlContext);
        using var scorer = mlContext.Transforms.ScoreTeachers(data.TeacherPaths, batchSize: 64).Fit(view);
        var scored = scorer.Transform(view);

        var column = scored.Schema["TeacherLogits"];
        Assert.Equal(20, ((VectorDataViewType)column.Type).Size);
        using var cursor = scored.GetRowCursor([column, scored.Schema["Label"]]);
        var logits = cursor.GetGetter<VBuffer<float>>(column);
        var label = cursor.GetGetter<uint>(scored.Schema["Label"]);
        int rows = 0;
        VBuffer<float> value = default;
        uint key = 0;
        while (cursor.MoveNext())
        {
            logits(ref value);
            label(ref key);
            Assert.Equal((uint)data.Test.Labels[rows] + 1, key);
            Assert.All(value.DenseValues(), v => Assert.True(float.IsFinite(v)));
            rows++;
        }
        Assert.Equal(300, rows);
    }

    [Fact]
    public void ABrokenTeacherFileIsNamedInTheError()
    {
        var path = Path.Combine(data.Directory, "not-a-model.onnx");
        File.WriteAllText(path, "this is not ONNX");
        var mlContext = new MLContext();

        var error = Assert.Throws<InvalidDataException>(() => mlContext.Transforms.ScoreTeachers([path]).Fit(data.Test.ToDataView(mlContext)));

        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void AMissingLabelKeyIsNamedInTheError()
    {
        var mlContext = new MLContext();
        var view = mlContext.Transforms.ScoreTeachers(data.TeacherPaths).Fit(data.Test.ToDataView(mlContext)).Transform(data.Test.ToDataView(mlContext));
        var trainer = mlContext.MulticlassClassification.Trainers.MultiTeacherDistillation(new MultiTeacherDistillationOptions { LabelColumnName = "Class" });

        var error = Assert.Throws<ArgumentException>(() => trainer.Fit(view));

        Assert.Contains("'Class'", error.Message);
    }
}
