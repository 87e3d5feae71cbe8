using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet;
using Mtkd.MLNet.Data;
using Mtkd.MLNet.Distillation;
using Mtkd.MLNet.Scoring;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Engine;
using Mtkd.Training.Teachers;

namespace Mtkd.MLNet.Tests.Distillation;

/// <summary>The ML.NET distillation estimator with the engine's options: modes, students, on-the-fly scoring, log messages.</summary>
[Collection(TinyFashionMnistCollection.Name)]
public sealed class DistillationTrainerOptionsTests(TinyFashionMnist data)
{
    private static float[] Scores(IDataView scored) => scored.GetColumn<float[]>("Score").SelectMany(r => r).ToArray();

    [Fact]
    public void A_mimic_all_resnet_student_evaluates_and_round_trips_through_a_zip()
    {
        var ml = new MLContext(seed: 1);
        var pipeline = ml.Transforms.ScoreTeachers(data.TeacherPaths).Append(ml.MulticlassClassification.Trainers.MultiTeacherDistillation(new()
        {
            Distillation = { Method = new Mtkd.Training.Distillation.Methods.MimicAll() }, Student = NetworkPresets.ResNet8, StudentWidth = 8, Trainer = { Epochs = 4, LearningRate = 5e-3 },
        }));
        var student = pipeline.Fit(data.Train.ToDataView(ml)).LastTransformer;
        var test = data.Test.ToDataView(ml);
        var scored = student.Transform(test);
        Assert.InRange(ml.MulticlassClassification.Evaluate(scored).MicroAccuracy, 0.15, 1.0);

        var path = Path.Combine(data.Directory, $"mimic-{Guid.NewGuid():N}.zip");
        ml.Model.Save(student, test.Schema, path);
        var loaded = new MLContext().Model.Load(path, out _);
        var expected = Scores(scored);
        var actual = Scores(loaded.Transform(test));
        Assert.True(expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max() < 1e-5);
    }

    [Fact]
    public void Teachers_are_scored_on_the_fly_when_asked_and_epochs_go_to_the_log()
    {
        var ml = new MLContext(seed: 1);
        var messages = new List<string>();
        ml.Log += (_, e) => { if (e.Message.Contains("Epoch ")) lock (messages) messages.Add(e.Message); };
        var options = new MultiTeacherDistillationOptions { Trainer = { Epochs = 2 }, ValidationFraction = 0.2 };

        var explicitPipeline = ml.Transforms.ScoreTeachers(data.TeacherPaths).Append(ml.MulticlassClassification.Trainers.MultiTeacherDistillation(options));
        var explicitStudent = explicitPipeline.Fit(data.Train.ToDataView(ml)).LastTransformer;
        var onTheFly = ml.MulticlassClassification.Trainers.MultiTeacherDistillation(new MultiTeacherDistillationOptions
        {
            Trainer = { Epochs = 2 }, ValidationFraction = 0.2, Teachers = data.TeacherPaths.Select(TeacherModel.FromFile).ToArray(),
        }).Fit(data.Train.ToDataView(ml));

        var test = data.Test.ToDataView(ml);
        Assert.Equal(Scores(explicitStudent.Transform(test)), Scores(onTheFly.Transform(test)));
        Assert.Contains(messages, m => m.Contains("Epoch 2/2") && m.Contains("validation accuracy"));
        Assert.All(onTheFly.TrainingHistory, e => Assert.NotNull(e.ValidationAccuracy));
    }

    [Fact]
    public void Consistent_teaching_scores_the_onnx_teachers_on_augmented_batches()
    {
        var ml = new MLContext(seed: 1);
        var student = ml.MulticlassClassification.Trainers.MultiTeacherDistillation(new MultiTeacherDistillationOptions
        {
            Trainer = { Epochs = 2, Augmentation = new AugmentationOptions { ShiftPixels = 2 } }, ConsistentTeaching = true,
            Teachers = data.TeacherPaths.Select(TeacherModel.FromFile).ToArray(), ValidationFraction = 0.2,
        }).Fit(data.Train.ToDataView(ml)); // no TeacherLogits column anywhere
        Assert.InRange(ml.MulticlassClassification.Evaluate(student.Transform(data.Test.ToDataView(ml))).MicroAccuracy, 0.15, 1.0);
        var ex = Assert.Throws<ArgumentException>(() => ml.MulticlassClassification.Trainers.MultiTeacherDistillation(new() { ConsistentTeaching = true })
            .Fit(data.Train.ToDataView(ml)));
        Assert.Contains("set Teachers", ex.Message);
        // A pool of views is scored by the teachers; the label-trained baseline (α = 1, no teachers) needs none.
        var shifts = new TrainerOptions { Augmentation = { ShiftPixels = 2 } };
        Assert.Contains("set Teachers", Assert.Throws<ArgumentException>(() =>
            ml.MulticlassClassification.Trainers.MultiTeacherDistillation(new() { Views = 3, Trainer = shifts })).Message);
        ml.MulticlassClassification.Trainers.MultiTeacherDistillation(new() { Views = 3, Trainer = shifts, Distillation = { Alpha = 1 } });
        Assert.Contains("Views draws its pool", Assert.Throws<ArgumentException>(() =>
            ml.MulticlassClassification.Trainers.MultiTeacherDistillation(new() { Views = 3, Distillation = { Alpha = 1 } })).Message);
    }

    [Fact]
    public void Supernet2_without_teacher_features_explains_what_it_needs()
    {
        var ml = new MLContext(seed: 1);
        var pipeline = ml.Transforms.ScoreTeachers(data.TeacherPaths)
            .Append(ml.MulticlassClassification.Trainers.MultiTeacherDistillation(new() { Distillation = { Method = new Mtkd.Training.Distillation.Methods.Supernet2() }, Trainer = { Epochs = 1 } }));
        var ex = Assert.Throws<ArgumentException>(() => pipeline.Fit(data.Train.ToDataView(ml)));
        Assert.Contains("'TeacherFeatures'", ex.Message);
    }

    [Fact]
    public void Supernet2_scores_the_teachers_feature_output_on_the_fly()
    {
        // The teacher-cnn exports name their hidden layer's output "layers.10.output" (after ReLU); expose it as an output.
        var teachers = data.TeacherPaths.Select(path =>
        {
            var model = Mtkd.Training.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
            return TeacherModel.FromBytes(TeacherVariants.Bytes(TeacherVariants.WithFeatureOutput(model, "layers.10.output", 64, "penultimate")), path);
        }).ToArray();
        var ml = new MLContext(seed: 1);
        var student = ml.MulticlassClassification.Trainers.MultiTeacherDistillation(new MultiTeacherDistillationOptions
        {
            Distillation = { Method = new Mtkd.Training.Distillation.Methods.Supernet2() }, Trainer = { Epochs = 1 }, Teachers = teachers, TeacherFeaturesOutputName = "penultimate",
        }).Fit(data.Train.ToDataView(ml));
        Assert.InRange(ml.MulticlassClassification.Evaluate(student.Transform(data.Test.ToDataView(ml))).MicroAccuracy, 0.15, 1.0);
    }
}
