using Microsoft.ML.OnnxRuntime;
using Mtkd.Tests;
using Mtkd.Training.Fusion;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Onnx.Proto;
using Mtkd.Training.Teachers;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Onnx;

/// <summary>
/// Teachers merged into one ONNX model: in ONNX Runtime the merged model gives the teacher logits the engine's own
/// scorer (<see cref="OnnxTeachers"/>) gives, for teachers in every form it accepts, and the fusion
/// <see cref="EnsembleFusion"/> gives; what cannot be merged is refused by name.
/// </summary>
public sealed class OnnxEnsembleTests
{
    private const int Rows = 7;

    public OnnxEnsembleTests() => TorchRuntime.EnsureLoaded();

    // Untrained networks (random weights: all a merge needs).
    private static byte[] Member(string preset, int seed, int classes = 10, int size = 28, int opset = 13)
    {
        manual_seed(seed);
        using var network = new SequentialNetwork(NetworkPresets.Get(preset), 1, size, size, classes);
        network.eval();
        return OnnxExporter.Export(network, new OnnxExportOptions { FoldBatchNorm = seed % 2 == 0, Opset = opset });
    }

    private static TeacherModel Teacher(byte[] bytes, string name) => TeacherModel.FromBytes(bytes, name);

    private static float[] Images(int size = 28)
    {
        var random = new Random(3);
        return Enumerable.Range(0, Rows * size * size).Select(_ => (float)random.NextDouble()).ToArray();
    }

    private static Dictionary<string, float[]> Run(byte[] model, float[] images, int size = 28)
    {
        using var session = new InferenceSession(model);
        using var input = OrtValue.CreateTensorValueFromMemory(images, [Rows, 1, size, size]);
        var names = session.OutputMetadata.Keys.ToArray();
        using var outputs = session.Run(new RunOptions(), [session.InputMetadata.Keys.Single()], [input], names);
        return names.Select((n, i) => (n, outputs[i].GetTensorDataAsSpan<float>().ToArray())).ToDictionary(p => p.n, p => p.Item2);
    }

    // The engine's scorer on the same images: [Rows, K, C].
    private static float[] Scored(IReadOnlyList<TeacherModel> teachers, float[] images, int size = 28)
    {
        using var loaded = OnnxTeachers.Load(teachers);
        using var batch = tensor(images, [Rows, 1, size, size]);
        using var scores = loaded.Score(batch);
        return scores.data<float>().ToArray();
    }

    private static void AssertClose(IReadOnlyList<float> expected, IReadOnlyList<float> actual, double tolerance = 1e-4)
    {
        Assert.Equal(expected.Count, actual.Count);
        double worst = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < tolerance, $"largest difference {worst:G3}");
    }

    [Fact]
    public void Teachers_of_all_the_classes_run_as_one_merged_session_giving_what_their_own_sessions_give()
    {
        var keras = ModelProto.Parser.ParseFrom(Member(NetworkPresets.CnnSmall, 2)).ChannelsLast().Outputs("probabilities").Bytes();
        TeacherModel[] teachers = [Teacher(Member(NetworkPresets.ResNet8, 1), "resnet"), Teacher(keras, "keras"), Teacher(Member(NetworkPresets.CnnSmall, 3), "cnn")];
        using var batch = tensor(Images(), [Rows, 1, 28, 28]);
        using var one = OnnxTeachers.Load(teachers);
        using var separate = OnnxTeachers.Load(teachers, new TeacherSessionSettings(null, null, false, null, true), merge: false);
        Assert.True(one.RunAsOneSession);
        Assert.False(separate.RunAsOneSession);
        using (var merged = one.Score(batch))
        using (var own = separate.Score(batch))
            AssertClose(own.data<float>().ToArray(), merged.data<float>().ToArray(), 1e-5);

        // Teachers of other operator sets cannot share one graph: each keeps its own session.
        using (var mixed = OnnxTeachers.Load([Teacher(Member(NetworkPresets.CnnSmall, 1), "a"), Teacher(Member(NetworkPresets.CnnSmall, 3, opset: 17), "b")]))
        {
            Assert.False(mixed.RunAsOneSession);
            using var scores = mixed.Score(batch);
            Assert.Equal(Rows * 2 * 10, scores.numel());
        }

        // A teacher that gives NaN is still named in the merged session's refusal.
        var broken = ModelProto.Parser.ParseFrom(Member(NetworkPresets.CnnSmall, 5));
        var bias = broken.Graph.Initializer.Last(i => i.Dims.Count == 1 && i.Dims[0] == 10);
        bias.RawData = Google.Protobuf.ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(Enumerable.Repeat(float.NaN, 10).ToArray().AsSpan()));
        using var withBroken = OnnxTeachers.Load([teachers[0], Teacher(broken.Bytes(), "broken")]);
        Assert.True(withBroken.RunAsOneSession);
        var error = Assert.Throws<InvalidDataException>(() => withBroken.Score(batch));
        Assert.StartsWith("Teacher 'broken' gave NaN for image 0 of a training batch, class 0;", error.Message);
    }

    [Fact]
    public void Teachers_in_every_form_give_in_the_merged_model_what_the_scorer_gives_them()
    {
        // An NCHW logits teacher, a Keras-style one (channels last, a softmax output) and three specialists of 4 classes,
        // the specialists unified into one teacher after the others, as OnnxTeachers does.
        var keras = ModelProto.Parser.ParseFrom(Member(NetworkPresets.CnnSmall, 2)).ChannelsLast().Outputs("probabilities").Bytes();
        SpecialistClasses[] groups = [new([0, 1, 2, 3, 4, 5, 6], 10), new([3, 4, 5, 6, 7, 8, 9], 10), new([6, 7, 8, 9, 0, 1, 2], 10)];
        var specialists = groups.Select((g, k) =>
        {
            var model = ModelProto.Parser.ParseFrom(Member(NetworkPresets.CnnSmall, 10 + k, classes: 8));
            model.MetadataProps.Add(new StringStringEntryProto { Key = SpecialistClasses.MetadataKey, Value = $$"""{"classes":[{{string.Join(",", g.Classes)}}],"class_count":10}""" });
            return Teacher(model.Bytes(), $"specialist-{k}");
        });
        TeacherModel[] teachers = [Teacher(Member(NetworkPresets.ResNet8, 1), "resnet"), Teacher(keras, "keras"), .. specialists];
        var images = Images();
        var merged = Run(OnnxEnsemble.Merge(teachers, new OnnxEnsembleOptions { Fusion = FusionMethod.MeanProbability }), images);
        var scored = Scored(teachers, images);
        Assert.Equal(Rows * 3 * 10, merged["teacher_logits"].Length); // two teachers and the unified specialists
        AssertClose(scored, merged["teacher_logits"]);
        // The merged file is a teacher like any other: its "logits" are the fused distribution's.
        var again = Scored([Teacher(OnnxEnsemble.Merge(teachers), "ensemble.onnx")], images);
        AssertClose(merged["logits"], again);
    }

    // Every fusion ONNX can express, against the engine's own EnsembleFusion on the same logits, at an opset whose
    // ReduceMax takes its axes as an attribute (13) and one that takes them as an input (18).
    [Theory]
    [InlineData(FusionMethod.MeanProbability, 13)]
    [InlineData(FusionMethod.MeanLogit, 13)]
    [InlineData(FusionMethod.Product, 13)]
    [InlineData(FusionMethod.MaxConfidence, 13)]
    [InlineData(FusionMethod.MaxConfidence, 18)]
    [InlineData(FusionMethod.WeightedAverage, 13)]
    public void Each_fusion_gives_what_EnsembleFusion_gives(FusionMethod method, int opset)
    {
        TeacherModel[] teachers = [.. new[] { 1, 2, 3 }.Select(seed => Teacher(Member(NetworkPresets.CnnSmall, seed, opset: opset), $"t{seed}"))];
        var images = Images();
        double[] weights = [0.5, 0.2, 0.3];
        var options = new OnnxEnsembleOptions { Fusion = method, Weights = weights };
        var merged = Run(OnnxEnsemble.Merge(teachers, options), images);
        var logits = merged["teacher_logits"];
        var fusion = new EnsembleFusion(method, 3, 10, weights);
        var expected = new float[Rows * 10];
        for (int i = 0; i < Rows; i++)
        {
            int predicted = fusion.Fuse(logits.AsSpan(i * 30, 30), expected.AsSpan(i * 10, 10));
            Assert.Equal(predicted, Enumerable.Range(0, 10).MaxBy(c => merged["probabilities"][i * 10 + c]));
        }
        AssertClose(expected, merged["probabilities"], 1e-5);
        AssertClose(expected, Softmax(merged["logits"]), 1e-5); // logits of the same distribution

        // The fusion alone, from ScoreTeachers' column, gives the same.
        using var session = new InferenceSession(OnnxEnsemble.Fusion(3, 10, options));
        using var input = OrtValue.CreateTensorValueFromMemory(logits, [Rows, 30]);
        using var outputs = session.Run(new RunOptions(), ["teacher_logits"], [input], ["probabilities"]);
        AssertClose(expected, outputs[0].GetTensorDataAsSpan<float>().ToArray(), 1e-5);
    }

    [Fact]
    public void Ranked_votes_and_teachers_that_cannot_be_merged_are_refused_by_name()
    {
        var a = Teacher(Member(NetworkPresets.CnnSmall, 1), "a.onnx");
        var e = Assert.Throws<ArgumentException>(() => OnnxEnsemble.Merge([a, a], new OnnxEnsembleOptions { Fusion = FusionMethod.Borda }));
        Assert.Contains("Borda is a ranked vote", e.Message);
        Assert.Contains("MeanProbability, MeanLogit, Product, MaxConfidence or WeightedAverage", e.Message);
        Assert.Throws<ArgumentException>(() => OnnxEnsemble.Merge([a, a], new OnnxEnsembleOptions { Fusion = FusionMethod.WeightedAverage, Weights = [1] }));
        Assert.Contains("'b.onnx' uses operator sets ai.onnx 11; 'a.onnx' uses ai.onnx 13",
            Assert.Throws<InvalidDataException>(() => OnnxEnsemble.Merge([a, Teacher(Member(NetworkPresets.CnnSmall, 2, opset: 11), "b.onnx")])).Message);
        var fixedBatch = ModelProto.Parser.ParseFrom(Member(NetworkPresets.CnnSmall, 2)).FixedBatch(4).Bytes();
        Assert.Contains("takes batches of exactly 4 images", Assert.Throws<InvalidDataException>(() => OnnxEnsemble.Merge([a, Teacher(fixedBatch, "fixed.onnx")])).Message);
        // What the scorer refuses (other classes) is refused in the same words.
        Assert.Contains("'c.onnx' has 5 classes", Assert.Throws<InvalidDataException>(() => OnnxEnsemble.Merge([a, Teacher(Member(NetworkPresets.CnnSmall, 2, classes: 5), "c.onnx")])).Message);
    }

    private static float[] Softmax(float[] logits, int classes = 10)
    {
        var result = new float[logits.Length];
        for (int i = 0; i < logits.Length; i += classes)
        {
            double max = logits.Skip(i).Take(classes).Max(), sum = 0;
            var e = new double[classes];
            for (int c = 0; c < classes; c++) sum += e[c] = Math.Exp(logits[i + c] - max);
            for (int c = 0; c < classes; c++) result[i + c] = (float)(e[c] / sum);
        }
        return result;
    }
}
