using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Distillation.Methods;
using Mtkd.Training.Networks;
using Mtkd.Training.Engine;

namespace Mtkd.Training.Tests.Distillation;

/// <summary>
/// Every mode trains a student end to end on 400 real images with synthetic teachers, from the teachers alone
/// (α = 0): a mode that ignored them would stay at chance.
/// </summary>
public sealed class DistillationModesTrainingTests
{
    [Theory]
    [InlineData("output_avg")]
    [InlineData("logit_avg")]
    [InlineData("loss_avg")]
    [InlineData("mimic_all")]
    [InlineData("supernet")]
    [InlineData("supernet2")]
    [InlineData("confidence")]
    [InlineData("hint")]
    public void Each_mode_trains_a_student(string name)
    {
        var data = TrainingFixtures.Train;
        var logits = TrainingFixtures.SyntheticTeacherLogits(data, 3);
        // supernet2's "penultimate features": synthetic, 8 per teacher, informative about the label.
        var random = new Random(4);
        var features = Enumerable.Range(0, data.Count * 24).Select(i => (float)((i % 24 == data.Labels[i / 24] ? 2 : 0) + random.NextDouble())).ToArray();
        var method = DistillationMethods.Create(name);
        using var student = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 1, heads: method.StudentHeads(3));
        var history = JobRuns.Distill(student, data, new Signals(logits, 3, features),
            new TrainerOptions { Epochs = 2, BatchSize = 50 }, new DistillationOptions { Method = method, LabelSmoothing = 0.1, Alpha = 0 }, TrainingFixtures.Validation);
        Assert.True(history[^1].ValidationAccuracy > 0.3, $"{name}: validation accuracy {history[^1].ValidationAccuracy} (chance 0.1)");
        Assert.Equal(10, NetworkTrainer.PredictLogits(student, TrainingFixtures.Validation.Take(3)).Length / 3);
    }

    [Fact]
    public void Mimic_all_trains_a_head_per_teacher_and_supernet2_needs_features()
    {
        var data = TrainingFixtures.Train;
        var stored = data.WithColumn(TeacherColumns.Logits, TrainingFixtures.SyntheticTeacherLogits(data, 3), 30);
        using (var result = new DistillationJob { Data = stored, Trainer = new TrainerOptions { Epochs = 1 }, Distillation = { Method = new MimicAll() } }.Run())
            Assert.Equal(3, result.Student.HeadCount);
        using var single = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 1);
        var ex = Assert.Throws<ArgumentException>(() => new MimicAll().Start(new MethodStart(single, _ => single, 3, 0, new DistillationOptions())));
        Assert.Contains("one head per teacher (3)", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => new DistillationJob { Data = stored, Trainer = new TrainerOptions { Epochs = 1 }, Distillation = { Method = new Supernet2() } }.Run());
        Assert.Contains("penultimate features", ex.Message);
    }

    [Fact]
    public void The_supernet_aggregator_learns_which_teacher_to_trust()
    {
        // Teacher 0 is right on every image, teacher 1 always says class 0: the aggregator should follow teacher 0.
        var data = TrainingFixtures.Train;
        var logits = new float[data.Count * 2 * 10];
        for (int i = 0; i < data.Count; i++)
        {
            logits[(i * 2) * 10 + data.Labels[i]] = 5;
            logits[(i * 2 + 1) * 10] = 5;
        }
        var (_, accuracy) = SupernetAggregator.FitAndApply(logits, data.Labels, 10, seed: 1);
        Assert.True(accuracy > 0.99, $"aggregator accuracy {accuracy}");
    }
}

public sealed class SupernetAggregatorExportTests
{
    [Fact]
    public void The_exported_aggregator_gives_the_logits_it_trained_with()
    {
        var data = TrainingFixtures.Train;
        var inputs = TrainingFixtures.SyntheticTeacherLogits(data, 3);
        var (logits, _, aggregator) = SupernetAggregator.Fit(inputs, data.Labels, 10, seed: 1);
        var bytes = Mtkd.Training.Onnx.OnnxExporter.ExportAggregator(aggregator);
        Assert.Empty(Mtkd.Training.Onnx.OnnxModelValidator.Check(bytes));
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(bytes);
        using var value = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(inputs, [data.Count, 30]);
        using var outputs = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), ["teacher_outputs"], [value], ["logits"]);
        var exported = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        Assert.True(logits.Zip(exported, (a, b) => Math.Abs(a - b)).Max() < 1e-4);
    }
}
