using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.Cli;
using Mtkd.MLNet;
using Mtkd.Training.Distillation;
using Mtkd.Training.SoftLabels;
using Mtkd.Training.Engine;
using static TorchSharp.torch;

namespace Mtkd.Cli.Tests.Reliability;

/// <summary>
/// NaN and infinities are refused where they enter (issue 16, fault 1): a teacher's output, a soft-label file, a loss
/// or weights during training, an option or a flag; nothing non-finite is written.
/// </summary>
public sealed class NonFiniteNumberTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-non-finite-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string PathOf(string name) => Path.Combine(directory, name);

    private string Save(Google.Protobuf.IMessage model, string name)
    {
        File.WriteAllBytes(PathOf(name), Google.Protobuf.MessageExtensions.ToByteArray(model));
        return PathOf(name);
    }

    private sealed class Row
    {
        [VectorType(3 * 8 * 8)] public float[] Features { get; set; } = [];
    }

    [Fact]
    public void ScoreTeachers_refuses_a_teacher_with_non_finite_outputs_by_name_and_row()
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(5); // synthetic: uniform noise images
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 37).Select(_ => new Row { Features = Enumerable.Range(0, 192).Select(_ => (float)random.NextDouble()).ToArray() }));
        var good = Save(TeacherVariants.Base(), "good.onnx");
        var broken = Save(TeacherVariants.Base().NonFiniteLogits(), "broken.onnx");
        using var scorer = ml.Transforms.ScoreTeachers([good, broken]).Fit(data);
        var e = Assert.Throws<InvalidDataException>(() => scorer.Transform(data).GetColumn<float[]>("TeacherLogits").ToArray());
        Assert.Contains("broken.onnx'", e.Message);
        Assert.Contains("row 0", e.Message);
        Assert.Contains("finite", e.Message);
    }

    [Fact]
    public void Mtkd_score_fuse_and_distill_refuse_a_non_finite_teacher_and_write_nothing()
    {
        var broken = Save(TeacherVariants.Base(channels: 1, size: 28, classes: 10).NonFiniteLogits(), "broken.onnx");
        var (score, said) = CliOutput.Capture(() => Program.Main(["score", "--teacher", broken, "--split", "test", "--out", PathOf("soft.parquet")]));
        Assert.Equal(1, score);
        Assert.Contains("broken.onnx", said);
        Assert.Contains("row 0", said);
        Assert.False(File.Exists(PathOf("soft.parquet")));

        var (distill, trained) = CliOutput.Capture(() => Program.Main(["distill", "--teacher", broken, "--quick", "--epochs", "1", "--out", PathOf("student")]));
        Assert.Equal(1, distill);
        Assert.Contains("broken.onnx", trained);
        Assert.Null(TrainingCheckpoint.CurrentFolder(Path.Combine(PathOf("student"), "checkpoints")));
        Assert.False(File.Exists(Path.Combine(PathOf("student"), "student.onnx")));

        var poisoned = new SoftLabelSet(new SoftLabelHeader(1, 2, ["t.onnx"], null), [0, 1], [0, 1], [0.5f, 0.25f, float.PositiveInfinity, 1f]);
        SoftLabelWriter.Write(PathOf("poisoned.parquet"), poisoned);
        var (fuse, fused) = CliOutput.Capture(() => Program.Main(["fuse", PathOf("poisoned.parquet")]));
        Assert.Equal(1, fuse);
        // Two classes are stored as one logit per teacher, z = l₁ − l₀: here 1 − ∞.
        Assert.True(fused.Contains("index 1, column t0_logit holds -Infinity", StringComparison.Ordinal), fused);
    }

    [Theory]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("-Infinity")]
    [InlineData("inf")]
    [InlineData("1e40")] // overflows float
    public void A_soft_label_csv_with_a_non_finite_value_is_refused_by_line_and_column(string value)
    {
        File.WriteAllText(PathOf("bad.csv"), $"index,label,t0_c0,t0_c1\n0,1,0.5,0.25\n1,0,0.5,{value}\n");
        var e = Assert.Throws<InvalidDataException>(() => SoftLabelFile.Read(PathOf("bad.csv")));
        Assert.Contains($"t0_c1 '{value}' is not a finite number", e.Message);
        Assert.Contains("line 3", e.Message);
        Assert.Contains(PathOf("bad.csv"), e.Message);
    }

    [Fact]
    public void A_soft_label_parquet_with_nan_is_refused_by_row_index_and_column()
    {
        var logits = Enumerable.Range(0, 4 * 2 * 3).Select(i => (float)i / 10).ToArray();
        logits[2 * 6 + 4] = float.NaN; // row index 1002, teacher 1, class 1
        var set = new SoftLabelSet(new SoftLabelHeader(2, 3, ["a.onnx", "b.onnx"], null), [1000, 1001, 1002, 1003], [0, 1, 2, 0], logits);
        SoftLabelWriter.Write(PathOf("nan.parquet"), set);
        var e = Assert.Throws<InvalidDataException>(() => SoftLabelFile.Read(PathOf("nan.parquet")));
        Assert.Contains("index 1002, column t1_c1 holds NaN", e.Message);
    }

    [Fact]
    public void A_non_finite_loss_stops_training_at_its_batch_without_a_checkpoint_and_nan_weights_are_not_exported()
    {
        var logits = TrainingFixtures.SyntheticTeacherLogits(TrainingFixtures.Train, 2);
        logits[(133 * 2 + 1) * 10 + 3] = float.NaN; // one logit of one teacher for one image: the batch holding it stops the run
        var checkpoints = PathOf("nan");
        using var student = TrainingFixtures.Student();
        var e = Assert.Throws<InvalidDataException>(() => JobRuns.Distill(student, TrainingFixtures.Train, new Signals(logits, 2),
            TrainingFixtures.Options(o => o.CheckpointDirectory = checkpoints), new DistillationOptions()));
        Assert.Contains("epoch 1, batch ", e.Message);
        Assert.Contains("NaN", e.Message);
        Assert.Null(TrainingCheckpoint.CurrentFolder(checkpoints)); // nothing to resume from a poisoned epoch

        using var broken = TrainingFixtures.Student();
        using (no_grad())
        using (var first = broken.parameters().First().view(-1)[0])
            first.fill_(float.PositiveInfinity);
        var export = Assert.Throws<InvalidDataException>(() => Mtkd.Training.Onnx.OnnxExporter.Export(broken));
        Assert.Contains("non-finite", export.Message);
    }

    public static TheoryData<string, double> OptionValues()
    {
        var data = new TheoryData<string, double>();
        foreach (var name in new[] { "LearningRate", "WeightDecay", "Momentum", "WarmupEpochs", "StepGamma", "Temperature", "Alpha", "LabelSmoothing",
                     "RotationDegrees", "Mixup", "CutMix" })
            foreach (var value in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
                data.Add(name, value);
        return data;
    }

    [Theory]
    [MemberData(nameof(OptionValues))]
    public void Every_floating_point_option_refuses_nan_and_infinity_by_name(string name, double value)
    {
        var trainer = new TrainerOptions();
        var distillation = new DistillationOptions();
        var augmentation = trainer.Augmentation;
        object target = typeof(TrainerOptions).GetProperty(name) is not null ? trainer
            : typeof(DistillationOptions).GetProperty(name) is not null ? distillation : augmentation;
        target.GetType().GetProperty(name)!.SetValue(target, value);
        var error = Assert.ThrowsAny<ArgumentException>(() =>
        {
            trainer.Validate();
            distillation.Validate();
        });
        Assert.Equal(name, error.ParamName);
    }

    [Theory]
    [InlineData("distill", "--lr")]
    [InlineData("distill", "--momentum")]
    [InlineData("distill", "--weight-decay")]
    [InlineData("distill", "--step-gamma")]
    [InlineData("distill", "--warmup")]
    [InlineData("distill", "--rotate")]
    [InlineData("distill", "--mixup")]
    [InlineData("distill", "--cutmix")]
    [InlineData("distill", "--alpha")]
    [InlineData("distill", "--temperature")]
    [InlineData("distill", "--label-smoothing")]
    [InlineData("distill", "--validation-fraction")]
    [InlineData("teachers", "--fraction")]
    [InlineData("distill", "--mean")]
    public void Every_numeric_flag_refuses_nan_before_any_work_with_exit_code_2(string command, string flag)
    {
        var teacher = Save(TeacherVariants.Base(channels: 1, size: 28, classes: 10), "teacher.onnx");
        string[] arguments = command == "teachers"
            ? ["teachers", "--quick", "--method", "bagging", flag, "NaN", "--out", PathOf("t")]
            : ["distill", "--teacher", teacher, "--quick", flag, "NaN", .. flag == "--mean" ? new[] { "--std", "1" } : [], "--out", PathOf("d")];
        var (code, said) = CliOutput.Capture(() => Program.Main(arguments));
        Assert.Equal(2, code);
        Assert.Contains("NaN", said);
        Assert.DoesNotContain("epoch", said);
    }
}
