using Microsoft.ML.OnnxRuntime;
using Mtkd.Training.Fusion;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Onnx;

/// <summary>
/// Several ONNX classifiers merged into one model: in ONNX Runtime the merged model gives each member's logits as
/// the member does alone, and their mean logits or mean probability; members that do not fit together are refused by name.
/// </summary>
public sealed class OnnxEnsembleTests
{
    private const int Rows = 7;

    public OnnxEnsembleTests() => TorchRuntime.EnsureLoaded();

    // Untrained networks of different architectures (random weights: all a merge needs), one with a softmax output.
    private static byte[] Member(string preset, int seed, int classes = 10, int size = 28, bool probabilitiesOnly = false, int opset = 13)
    {
        manual_seed(seed);
        using var network = new SequentialNetwork(NetworkPresets.Get(preset), 1, size, size, classes);
        network.eval();
        var bytes = OnnxExporter.Export(network, new OnnxExportOptions { FoldBatchNorm = seed % 2 == 0, Opset = opset });
        if (!probabilitiesOnly) return bytes;
        var model = Mtkd.Training.Onnx.Proto.ModelProto.Parser.ParseFrom(bytes);
        model.Graph.Output.RemoveAt(0); // keep "probabilities" alone: a Keras-style softmax output
        return Google.Protobuf.MessageExtensions.ToByteArray(model);
    }

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

    private static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<float> actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.Count, actual.Count);
        double worst = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < tolerance, $"largest difference {worst:G3}");
    }

    [Fact]
    public void The_merged_model_gives_each_member_and_their_mean_logits()
    {
        byte[][] members = [Member(NetworkPresets.CnnSmall, 1), Member(NetworkPresets.ResNet8, 2), Member(NetworkPresets.CnnSmall, 3)];
        var images = Images();
        var alone = members.Select(m => Run(m, images)["logits"]).ToArray();
        var merged = Run(OnnxEnsemble.Merge(members, ["a", "b", "c"], new OnnxEnsembleOptions
        {
            Fusion = FusionMethod.MeanLogit, ClassNames = Enumerable.Range(0, 10).Select(c => $"c{c}").ToArray(),
        }), images);
        for (int k = 0; k < 3; k++)
            AssertClose(alone[k].Select(v => (double)v).ToArray(), merged[$"member_{k}_logits"]);
        var mean = Enumerable.Range(0, Rows * 10).Select(i => alone.Average(a => (double)a[i])).ToArray();
        AssertClose(mean, merged["logits"]);
        AssertClose(Softmax(mean), merged["probabilities"]);
    }

    [Fact]
    public void Mean_probability_fusion_takes_a_softmax_output_as_it_is()
    {
        byte[][] members = [Member(NetworkPresets.CnnSmall, 1), Member(NetworkPresets.CnnSmall, 3, probabilitiesOnly: true)];
        var images = Images();
        var p0 = Softmax(Run(members[0], images)["logits"].Select(v => (double)v).ToArray());
        var p1 = Run(members[1], images)["probabilities"].Select(v => (double)v).ToArray();
        var merged = Run(OnnxEnsemble.Merge(members, ["logits.onnx", "softmax.onnx"], new OnnxEnsembleOptions { Fusion = FusionMethod.MeanProbability, MemberOutputs = false }), images);
        Assert.Equal(["logits", "probabilities"], merged.Keys.Order());
        var mean = p0.Zip(p1, (a, b) => (a + b) / 2).ToArray();
        AssertClose(mean, merged["probabilities"]);
        AssertClose(mean.Select(v => Math.Log(v)).ToArray(), merged["logits"], 1e-4);
    }

    // Every fusion ONNX can express, against the engine's own EnsembleFusion on the same members' logits, at an
    // opset whose ReduceMax takes its axes as an attribute (13) and one that takes them as an input (18).
    [Theory]
    [InlineData(FusionMethod.MeanProbability, 13)]
    [InlineData(FusionMethod.MeanLogit, 13)]
    [InlineData(FusionMethod.Product, 13)]
    [InlineData(FusionMethod.MaxConfidence, 13)]
    [InlineData(FusionMethod.MaxConfidence, 18)]
    [InlineData(FusionMethod.WeightedAverage, 13)]
    public void Each_fusion_gives_what_EnsembleFusion_gives(FusionMethod method, int opset)
    {
        byte[][] members = [.. new[] { 1, 2, 3 }.Select(seed => Member(NetworkPresets.CnnSmall, seed, opset: opset))];
        var images = Images();
        var alone = members.Select(m => Run(m, images)["logits"]).ToArray();
        double[] weights = [0.5, 0.2, 0.3];
        var merged = Run(OnnxEnsemble.Merge(members, ["a", "b", "c"], new OnnxEnsembleOptions { Fusion = method, Weights = weights }), images);
        var fusion = new EnsembleFusion(method, 3, 10, weights);
        var expected = new double[Rows * 10];
        var score = new float[10];
        var row = new float[30];
        for (int i = 0; i < Rows; i++)
        {
            for (int k = 0; k < 3; k++) Array.Copy(alone[k], i * 10, row, k * 10, 10);
            int predicted = fusion.Fuse(row, score);
            for (int c = 0; c < 10; c++) expected[i * 10 + c] = score[c];
            Assert.Equal(predicted, Enumerable.Range(0, 10).MaxBy(c => merged["probabilities"][i * 10 + c]));
        }
        AssertClose(expected, merged["probabilities"]);
        // "logits" are logits of the same distribution.
        AssertClose(expected, Softmax(merged["logits"].Select(v => (double)v).ToArray()).Select(v => (float)v).ToArray());
    }

    [Fact]
    public void Ranked_votes_are_refused_with_the_methods_that_can_be_saved()
    {
        var a = Member(NetworkPresets.CnnSmall, 1);
        var e = Assert.Throws<ArgumentException>(() => OnnxEnsemble.Merge([a, a], ["a", "b"], new OnnxEnsembleOptions { Fusion = FusionMethod.Borda }));
        Assert.Contains("Borda is a ranked vote", e.Message);
        Assert.Contains("MeanProbability, MeanLogit, Product, MaxConfidence or WeightedAverage", e.Message);
        Assert.Throws<ArgumentException>(() => OnnxEnsemble.Merge([a, a], ["a", "b"], new OnnxEnsembleOptions { Fusion = FusionMethod.WeightedAverage, Weights = [1] }));
    }

    [Fact]
    public void Members_that_do_not_fit_together_are_refused_by_name()
    {
        var a = Member(NetworkPresets.CnnSmall, 1);
        Assert.Contains("'b.onnx' gives 5 classes; 'a.onnx' gives 10",
            Assert.Throws<InvalidDataException>(() => OnnxEnsemble.Merge([a, Member(NetworkPresets.CnnSmall, 2, classes: 5)], ["a.onnx", "b.onnx"])).Message);
        Assert.Contains("'b.onnx' takes [batch, 1, 16, 16]; 'a.onnx' takes [batch, 1, 28, 28]",
            Assert.Throws<InvalidDataException>(() => OnnxEnsemble.Merge([a, Member(NetworkPresets.CnnSmall, 2, size: 16)], ["a.onnx", "b.onnx"])).Message);
        Assert.Contains("'junk' is not an ONNX model", Assert.Throws<InvalidDataException>(() => OnnxEnsemble.Merge([a, [1, 2, 3, 4, 5]], ["a", "junk"])).Message);
    }

    private static double[] Softmax(double[] logits, int classes = 10)
    {
        var result = new double[logits.Length];
        for (int i = 0; i < logits.Length; i += classes)
        {
            double max = logits.Skip(i).Take(classes).Max(), sum = 0;
            for (int c = 0; c < classes; c++) sum += result[i + c] = Math.Exp(logits[i + c] - max);
            for (int c = 0; c < classes; c++) result[i + c] /= sum;
        }
        return result;
    }
}
