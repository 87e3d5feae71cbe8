using Mtkd.Training;
using Mtkd.Training.Distillation;
using Mtkd.Training.Distillation.Methods;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Distillation;

/// <summary>
/// Every distillation mode on one tiny batch worked out by hand: 2 images, 2 teachers, 3 classes, T = 2, α = 0.3,
/// labels (0, 2). The expected values were summed term by term in double precision from the formulas in each
/// test's comment, outside TorchSharp.
/// </summary>
public sealed class DistillationModeTests
{
    private const double T = 2, Alpha = 0.3;
    private static readonly float[] Student = [1.0f, 0.5f, -0.5f, 0.2f, -0.3f, 0.8f];
    private static readonly float[] Teachers = [2.0f, 0.0f, -1.0f, 1.0f, 1.5f, 0.0f, /**/ 0.0f, 0.5f, 1.0f, -1.0f, 0.0f, 2.0f];
    private static readonly float[] Heads = [1.0f, 0.5f, -0.5f, 0.0f, 1.0f, 0.0f, /**/ 0.2f, -0.3f, 0.8f, 0.5f, 0.0f, 0.5f];
    private static readonly long[] Labels = [0, 2];

    public DistillationModeTests() => TorchRuntime.EnsureLoaded();

    private static double Loss(DistillationMethod method, double labelSmoothing = 0)
    {
        using var scope = NewDisposeScope();
        var student = method is MimicAll ? tensor(Heads, [2, 2, 3]) : tensor(Student, [2, 3]);
        return MethodLoss.Of(method, student, tensor(Teachers, [2, 2, 3]), tensor(Labels, [2]), T, Alpha, labelSmoothing).item<float>();
    }

    // 0.7·4·mean_b KL(mean_k softmax(t_bk / 2) ‖ softmax(z_b / 2)) + 0.3·mean_b CE(z_b, y_b)
    [Fact]
    public void Output_average() => Assert.Equal(0.246110692, Loss(new OutputAverage()), 1e-6);

    // As output_avg with targets ((1 − 0.1)·one-hot + 0.1/3): the hard term grows by 0.3·0.1·(mean CE to uniform − CE) = +0.0185.
    [Fact]
    public void Output_average_with_label_smoothing() => Assert.Equal(0.264610692, Loss(new OutputAverage(), 0.1), 1e-6);

    // 0.7·4·mean_b KL(softmax(mean_k t_bk / 2) ‖ softmax(z_b / 2)) + 0.3·CE
    [Fact]
    public void Logit_average() => Assert.Equal(0.248769757, Loss(new LogitAverage()), 1e-6);

    // 0.7·4·mean_b mean_k KL(softmax(t_bk / 2) ‖ softmax(z_b / 2)) + 0.3·CE
    [Fact]
    public void Loss_average() => Assert.Equal(0.336151763, Loss(new LossAverage()), 1e-6);

    // 0.7·4·mean_b mean_k KL(softmax(t_bk / 2) ‖ softmax(h_bk / 2)) + 0.3·mean_b −log(mean_k softmax(h_bk)[y_b])
    [Fact]
    public void Mimic_all() => Assert.Equal(0.457082276, Loss(new MimicAll()), 1e-6);

    // Teacher CEs give weights (0.7179, 0.2821) for image 0 and (0.3751, 0.6249) for image 1;
    // 0.7·4·mean_b Σ_k w_bk·KL(softmax(t_bk / 2) ‖ softmax(z_b / 2)) + 0.3·CE
    [Fact]
    public void Confidence_weights()
    {
        Assert.Equal(0.364507587, Loss(new Mtkd.Training.Distillation.Methods.Confidence()), 1e-6);
        using var scope = NewDisposeScope();
        using var targets = LabelTargets.From(tensor(Labels, [2]), 3);
        var weights = Mtkd.Training.Distillation.Methods.Confidence.Weights(tensor(Teachers, [2, 2, 3]), targets).data<float>().ToArray();
        Assert.Equal([0.717943726, 0.282056274, 0.375094217, 0.624905783], weights.Select(w => Math.Round(w, 6)), new ToleranceComparer(1e-6));
    }

    [Fact]
    public void Mimic_all_needs_one_head_per_teacher()
    {
        using var scope = NewDisposeScope();
        using var targets = LabelTargets.From(tensor(Labels, [2]), 3);
        var ex = Assert.Throws<ArgumentException>(() => MimicAll.Compute(tensor(Heads, [4, 1, 3]), tensor(Teachers, [2, 2, 3]), targets, T, Alpha));
        Assert.Contains("one student head per teacher", ex.Message);
    }

    [Theory]
    [InlineData("output_avg", typeof(OutputAverage))]
    [InlineData("MIMIC_ALL", typeof(MimicAll))]
    [InlineData("supernet2", typeof(Supernet2))]
    [InlineData("hint", typeof(HintLearning))]
    [InlineData("mutual", typeof(MutualLearning))]
    public void Methods_are_created_from_their_paper_names(string name, Type type)
    {
        var method = DistillationMethods.Create(name);
        Assert.IsType(type, method);
        Assert.Equal(name.ToLowerInvariant(), method.Name);
    }

    [Fact]
    public void Unknown_modes_list_the_known_ones()
    {
        var ex = Assert.Throws<ArgumentException>(() => DistillationMethods.Create("average"));
        Assert.Contains("output_avg, logit_avg, loss_avg, mimic_all, supernet, supernet2, confidence, labels, hint, mutual", ex.Message);
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double value) => 0;
    }
}
