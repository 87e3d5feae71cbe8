using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet;
using Mtkd.MLNet.Data;
using Mtkd.MLNet.Distillation;
using Mtkd.MLNet.SoftLabels;
using Mtkd.Training.Engine;

namespace Mtkd.MLNet.Tests;

/// <summary>
/// Mtkd behaves as ML.NET's own components do: estimator chains whose schema shapes agree, a validation set beside a
/// validation fraction, MLContext.CancelExecution, and soft labels that join back to the data they were scored on.
/// </summary>
[Collection(TinyFashionMnistCollection.Name)]
public sealed class MlNetConventionTests(TinyFashionMnist data) : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-conventions-mlnet-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private static MultiTeacherDistillationOptions Options(Action<MultiTeacherDistillationOptions>? change = null)
    {
        var options = new MultiTeacherDistillationOptions { Trainer = { Epochs = 1, Seed = 3 } };
        change?.Invoke(options);
        return options;
    }

    private static float[] Scores(ITransformer model, IDataView view) => model.Transform(view).GetColumn<float[]>("Score").SelectMany(s => s).ToArray();

    [Fact]
    public void ScoreTeachers_then_FuseTeachers_is_one_chain_whose_shapes_agree_and_fits_as_the_two_steps_do()
    {
        var ml = new MLContext(seed: 1);
        var train = data.Train.ToDataView(ml);
        var chain = ml.Transforms.ScoreTeachers(data.TeacherPaths).Append(ml.Transforms.FuseTeachers());
        var shape = chain.GetOutputSchema(Mtkd.MLNet.Internal.SchemaShapes.Of(train.Schema)); // threw: the logits column had no known size
        Assert.Contains(shape, c => c.Name == "PredictedLabel" && c.IsKey);

        var fused = chain.Fit(train);
        var scorer = ml.Transforms.ScoreTeachers(data.TeacherPaths).Fit(train);
        var scored = scorer.Transform(train);
        var twoSteps = ml.Transforms.FuseTeachers().Fit(scored);
        Assert.Equal(Scores(twoSteps, scored), Scores(fused, train));
        Assert.InRange(ml.MulticlassClassification.Evaluate(fused.Transform(data.Test.ToDataView(ml))).MicroAccuracy, 0.4, 1); // two 1-epoch teachers
    }

    [Fact]
    public void ScoreTeachers_then_MultiTeacherDistillation_fits_the_same_student_as_the_two_steps()
    {
        var ml = new MLContext(seed: 1);
        var train = data.Train.ToDataView(ml);
        var test = data.Test.ToDataView(ml);
        var chain = ml.Transforms.ScoreTeachers(data.TeacherPaths).Append(ml.MulticlassClassification.Trainers.MultiTeacherDistillation(Options()));
        chain.GetOutputSchema(Mtkd.MLNet.Internal.SchemaShapes.Of(train.Schema));
        var student = chain.Fit(train).LastTransformer;

        var scored = ml.Transforms.ScoreTeachers(data.TeacherPaths).Fit(train).Transform(train);
        var twoSteps = ml.MulticlassClassification.Trainers.MultiTeacherDistillation(Options()).Fit(scored);
        Assert.Equal(Scores(twoSteps, test), Scores(student, test));
    }

    [Fact]
    public void A_validation_set_gives_each_epoch_its_validation_figures_and_cannot_be_combined_with_a_fraction()
    {
        var ml = new MLContext(seed: 1);
        var test = data.Test.ToDataView(ml);
        var student = ml.Transforms.ScoreTeachers(data.TeacherPaths)
            .Append(ml.MulticlassClassification.Trainers.MultiTeacherDistillation(Options(o => o.ValidationSet = test)))
            .Fit(data.Train.ToDataView(ml)).LastTransformer;
        var epoch = Assert.Single(student.TrainingHistory);
        double accuracy = ml.MulticlassClassification.Evaluate(student.Transform(test)).MicroAccuracy;
        Assert.NotNull(epoch.ValidationAccuracy);
        Assert.InRange(epoch.ValidationAccuracy!.Value, accuracy - 1.0 / 300, accuracy + 1.0 / 300); // the same 300 images, TorchSharp against ONNX Runtime

        var both = Assert.Throws<ArgumentException>(() =>
            ml.MulticlassClassification.Trainers.MultiTeacherDistillation(Options(o => { o.ValidationSet = test; o.ValidationFraction = 0.1; })));
        Assert.Contains("not both", both.Message);
    }

    [Fact]
    public void CancelExecution_stops_Fit_between_batches_leaving_a_complete_checkpoint_that_a_new_context_resumes()
    {
        var checkpoints = Path.Combine(directory, "checkpoints");
        var ml = new MLContext(seed: 1);
        var scored = ml.Transforms.ScoreTeachers(data.TeacherPaths).Fit(data.Train.ToDataView(ml)).Transform(data.Train.ToDataView(ml));
        var options = Options(o =>
        {
            o.Trainer.Epochs = 3;
            o.Trainer.CheckpointDirectory = checkpoints;
            o.Progress = new SynchronousProgress<TrainingProgress>(p => { if (p.Epoch == 2 && p.Step == 2) ml.CancelExecution(); });
        });
        var stop = Assert.Throws<OperationCanceledException>(() => ml.MulticlassClassification.Trainers.MultiTeacherDistillation(options).Fit(scored));
        Assert.Contains("stopped in epoch 2, before step ", stop.Message);
        Assert.Contains("holds epoch 1: rerun it with the same settings to resume", stop.Message);
        Assert.EndsWith("epoch-0001", TrainingCheckpoint.CurrentFolder(checkpoints));

        // A cancelled context stays cancelled, as ML.NET's do: its teacher scoring stops too.
        Assert.Throws<OperationCanceledException>(() => ml.Transforms.ScoreTeachers(data.TeacherPaths).Fit(data.Train.ToDataView(ml))
            .Transform(data.Train.ToDataView(ml)).GetColumn<float[]>("TeacherLogits").ToArray());

        var fresh = new MLContext(seed: 1);
        var resumed = fresh.MulticlassClassification.Trainers.MultiTeacherDistillation(Options(o => { o.Trainer.Epochs = 3; o.Trainer.CheckpointDirectory = checkpoints; }))
            .Fit(fresh.Transforms.ScoreTeachers(data.TeacherPaths).Fit(data.Train.ToDataView(fresh)).Transform(data.Train.ToDataView(fresh)));
        Assert.Equal(3, resumed.TrainingHistory.Count);
    }

    [Fact]
    public void Soft_labels_saved_once_join_back_to_their_features_and_distil_the_same_student()
    {
        var ml = new MLContext(seed: 1);
        var train = data.Train.ToDataView(ml);
        var test = data.Test.ToDataView(ml);
        var scored = ml.Transforms.ScoreTeachers(data.TeacherPaths).Fit(train).Transform(train);
        string path = Path.Combine(directory, "soft.parquet");
        ml.Data.SaveAsSoftLabels(scored, path);

        var joined = ml.Data.JoinSoftLabels(train, path);
        Assert.Equal(scored.GetColumn<float[]>("TeacherLogits").SelectMany(r => r), joined.GetColumn<float[]>("TeacherLogits").SelectMany(r => r));
        var fromFile = ml.MulticlassClassification.Trainers.MultiTeacherDistillation(Options()).Fit(joined);
        var fromScores = ml.MulticlassClassification.Trainers.MultiTeacherDistillation(Options()).Fit(scored);
        Assert.Equal(Scores(fromScores, test), Scores(fromFile, test));
        Assert.Equal(Scores(ml.Transforms.FuseTeachers().Fit(scored), scored), Scores(ml.Transforms.FuseTeachers().Fit(joined), joined));

        // Other data than the file was scored on: named at the first row the file does not hold.
        var longer = data.Train.Concat(data.Test).ToDataView(ml);
        var missing = Assert.Throws<InvalidDataException>(() => ml.Data.JoinSoftLabels(longer, path).GetColumn<float[]>("TeacherLogits").ToArray());
        Assert.Contains($"holds no soft labels for index {data.Train.Count}", missing.Message);
        Assert.Throws<ArgumentException>(() => ml.Data.JoinSoftLabels(scored, path)); // already has TeacherLogits
    }

    [Fact]
    public void The_MLNet_internals_Mtkd_uses_resolve_against_the_referenced_version()
    {
        // MultiTeacherDistillation and ScoreTeachers resolve them when called, so a changed ML.NET fails there, not after training.
        Mtkd.MLNet.Internal.MlNetInternals.ResolveAll();
        var ml = new MLContext(seed: 1) { GpuDeviceId = 3, FallbackToCpu = true };
        var env = Mtkd.MLNet.Internal.MlNetInternals.GetEnvironment(ml.Transforms);
        Assert.Equal((3, true), Mtkd.MLNet.Internal.MlNetInternals.GpuSettings(env));
        var cancelled = Mtkd.MLNet.Internal.MlNetInternals.CancellationCheck(env);
        Assert.False(cancelled());
        ml.CancelExecution();
        Assert.True(cancelled());
    }
}
