using Microsoft.ML.OnnxRuntime;
using Mtkd.Training;
using Mtkd.Training.Distillation;
using Mtkd.Training.Distillation.Methods;
using Mtkd.Training.Engine;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Distillation;

/// <summary>Online ensemble compression: the loss and gradients worked by hand, a branch exported alone against the joint network, learning, determinism and resume.</summary>
public sealed class OnlineEnsembleTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-online-ensemble-").FullName;

    public OnlineEnsembleTests() => TorchRuntime.EnsureLoaded();

    public void Dispose() => Directory.Delete(directory, recursive: true);

    // Two branches, T = 2, weights 0.7 / 0.15 / 0.15, labels (0, 2), worked in double precision:
    // L = Σ_i [0.7·CE_i + 0.15·T²·KL(p_e ‖ q_i)] + 0.15·MSE(f_1, f_0), p_e = softmax(mean(z_0, z_1) / T) a fixed target.
    // ∂L/∂z_1 = (0.7·(softmax(z_1) − y) + 0.15·T·(softmax(z_1 / T) − p_e)) / 2 rows; ∂L/∂f_1 = 0.15·2·(f_1 − f_0) / 4 values.
    [Fact]
    public void Loss_and_gradients_by_hand()
    {
        using var z0 = tensor(new float[] { 1.0f, 0.5f, -0.5f, 0.2f, -0.3f, 0.8f }, [2, 3]).requires_grad_();
        using var z1 = tensor(new float[] { 0.0f, 1.0f, 0.0f, 0.5f, 0.0f, 0.5f }, [2, 3]).requires_grad_();
        using var f0 = tensor(new float[] { 0.5f, -1.0f, 2.0f, 0.0f }, [2, 2]).requires_grad_();
        using var f1 = tensor(new float[] { 0.0f, 1.0f, 1.0f, 1.0f }, [2, 2]).requires_grad_();
        using var targets = LabelTargets.From(tensor(new long[] { 0, 2 }, [2]), 3);
        using var loss = new OnlineEnsemble().Compute([z0, z1], [f0, f1], targets, temperature: 2);
        Assert.Equal(1.556615995211703, loss.item<float>(), 5);
        loss.backward();
        var expected = new[] { -0.28789339601886826, 0.2091558245636001, 0.07873757145526816, 0.1372488356338724, 0.08375739479664752, -0.2210062304305199 };
        var actual = z1.grad!.data<float>().ToArray();
        for (int i = 0; i < 6; i++) Assert.Equal(expected[i], actual[i], 6);
        Assert.Equal(new[] { -0.0375f, 0.15f, -0.075f, 0.075f }, f1.grad!.data<float>().ToArray());
        Assert.All(f0.grad?.data<float>().ToArray() ?? [0f, 0f, 0f, 0f], g => Assert.Equal(0f, g)); // the widest branch's features are a fixed target
    }

    private static DistillationJob Job(int epochs, string? checkpoints = null) => new()
    {
        Data = TrainingFixtures.Train, Student = NetworkPresets.Get(NetworkPresets.CnnSmall),
        Trainer = new TrainerOptions { Epochs = epochs, BatchSize = 50, Seed = 3, CheckpointDirectory = checkpoints },
        Distillation = { Method = new OnlineEnsemble { Widths = [1, 0.5, 0.25] }, Temperature = 2 },
    };

    private static float[] Weights(SequentialNetwork network) => network.parameters().SelectMany(p => p.detach().data<float>().ToArray()).ToArray();

    [Fact]
    public void Every_width_learns_and_the_narrowest_is_exported_alone_as_it_computes_inside_the_joint_network()
    {
        using var result = Job(epochs: 2).Run();
        Assert.Equal(3, result.Students.Count);
        Assert.Same(result.Students[2], result.Student); // the narrowest
        Assert.Equal(["cnn-small", "cnn-small-w0.5", "cnn-small-w0.25"], result.Students.Select(s => s.Spec.Name));
        Assert.True(result.Students[2].ParameterCount < result.Students[1].ParameterCount && result.Students[1].ParameterCount < result.Students[0].ParameterCount);

        // Inside the joint network: the widest's stem, then the branch's own layers.
        var narrowest = result.Student;
        int stem = new OnlineEnsemble().StemLayers;
        var images = TrainingFixtures.Validation.Take(7).ReadAllPixels();
        float[] joint;
        using (NewDisposeScope())
        using (no_grad())
        {
            result.Students[0].eval();
            narrowest.eval();
            var x = tensor(images, [7, 1, 28, 28]);
            for (int layer = 0; layer < narrowest.LayerModules.Count; layer++)
                x = (layer < stem ? result.Students[0] : narrowest).LayerModules[layer].forward(x);
            joint = x.data<float>().ToArray();
        }
        using var session = new InferenceSession(OnnxExporter.Export(narrowest));
        using var input = OrtValue.CreateTensorValueFromMemory(images, [7, 1, 28, 28]);
        using var outputs = session.Run(new RunOptions(), ["input"], [input], ["logits"]);
        var alone = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        double worst = joint.Zip(alone, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < 1e-4, $"largest difference {worst:G3}");
        var accuracies = result.Students.Select(s => NetworkTrainer.Evaluate(s, TrainingFixtures.Validation).Accuracy).ToArray();
        Assert.True(accuracies.All(a => a > 0.3), $"{string.Join(", ", accuracies.Select(a => a.ToString("P1")))} after two epochs (chance 10 %)");
    }

    [Fact]
    public void The_same_seed_gives_the_same_branches_and_a_killed_run_resumes_to_them()
    {
        using var uninterrupted = Job(epochs: 2).Run();
        using (var again = Job(epochs: 2).Run())
            for (int i = 0; i < 3; i++) Assert.Equal(Weights(uninterrupted.Students[i]), Weights(again.Students[i]));

        var checkpoints = Path.Combine(directory, "checkpoints");
        using var kill = new CancellationTokenSource();
        var job = Job(epochs: 2, checkpoints) with
        {
            Progress = new SynchronousProgress<TrainingProgress>(p => { if (p.Epoch == 2 && p.Step == 2) kill.Cancel(); }),
        };
        Assert.Throws<OperationCanceledException>(() => job.Run(kill.Token));
        using var resumed = Job(epochs: 2, checkpoints).Run();
        for (int i = 0; i < 3; i++) Assert.Equal(Weights(uninterrupted.Students[i]), Weights(resumed.Students[i]));
    }

    [Fact]
    public void Refuses_teachers_bad_widths_and_a_stem_that_leaves_the_branches_nothing()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new OnlineEnsemble { Widths = [0.5, 0.25] }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new OnlineEnsemble { Widths = [1, 1.5] }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new OnlineEnsemble { Widths = [1, 0.25, 0.5] }.Validate());
        Assert.Throws<ArgumentException>(() => new OnlineEnsemble { Widths = [1] }.Validate());
        var job = Job(1);
        job.Distillation.Method = new OnlineEnsemble { StemLayers = 9 };
        var e = Assert.Throws<ArgumentException>(() => job.Run());
        Assert.Contains("--stem-layers 9", e.Message);
        Assert.IsType<OnlineEnsemble>(DistillationMethods.Create("online-ensemble"));
    }
}
