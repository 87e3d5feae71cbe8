using Mtkd.Training;
using Mtkd.Training.Distillation;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Distillation;

public sealed class DistillationLossTests
{
    public DistillationLossTests() => TorchRuntime.EnsureLoaded();

    private static double Loss(float[] student, float[] teachers, int teachersCount, long[] labels, double t, double alpha)
    {
        int classes = student.Length / labels.Length;
        using var s = tensor(student, [labels.Length, classes]);
        using var k = tensor(teachers, [labels.Length, teachersCount, classes]);
        using var y = tensor(labels, [labels.Length]);
        using var loss = MethodLoss.Of(new Mtkd.Training.Distillation.Methods.OutputAverage(), s, k, y, t, alpha);
        return loss.item<float>();
    }

    [Fact]
    public void MatchesAHandComputedExample()
    {
        // One image, two classes, two teachers, T = 2, α = 0.5, true class 0.
        // p̄ = mean(softmax([2,0]/2), softmax([0,0]/2)) = mean([e/(e+1), 1/(e+1)], [½, ½])
        // q = softmax([1,0]/2) = [√e/(√e+1), 1/(√e+1)]
        // loss = ½·T²·Σ p̄·(ln p̄ − ln q) + ½·(−ln(e/(e+1)))
        double e = Math.E, se = Math.Sqrt(e);
        double[] pBar = [(e / (e + 1) + 0.5) / 2, (1 / (e + 1) + 0.5) / 2];
        double[] q = [se / (se + 1), 1 / (se + 1)];
        double kl = pBar[0] * Math.Log(pBar[0] / q[0]) + pBar[1] * Math.Log(pBar[1] / q[1]);
        double expected = 0.5 * 4 * kl + 0.5 * Math.Log(1 + 1 / e);

        double actual = Loss([1, 0], [2, 0, 0, 0], 2, [0], t: 2, alpha: 0.5);

        Assert.Equal(expected, actual, 1e-6);
        Assert.Equal(0.156835, actual, 1e-5); // the same sum worked out numerically by hand
    }

    [Fact]
    public void IsPureCrossEntropyWhenAlphaIsOne()
    {
        // Uniform student over 3 classes: CE = ln 3 whatever the teachers say.
        double actual = Loss([0, 0, 0, 0, 0, 0], [5, -1, 2, 0, 3, 1, 9, 9, 9, 1, 2, 3], 2, [1, 2], t: 4, alpha: 1);

        Assert.Equal(Math.Log(3), actual, 1e-6);
    }

    [Fact]
    public void SoftTermVanishesWhenTheStudentMatchesIdenticalTeachers()
    {
        float[] logits = [0.3f, -1.2f, 2.0f];
        double actual = Loss(logits, [.. logits, .. logits, .. logits], 3, [2], t: 3, alpha: 0);

        Assert.Equal(0, actual, 1e-6);
    }

    [Fact]
    public void SoftTermScalesWithTemperatureSquared()
    {
        // For large T, KL shrinks like 1/T², so T²·KL tends to a constant: the reason for the T² factor.
        double at10 = Loss([1, 0, 0], [0, 2, 0], 1, [0], t: 10, alpha: 0);
        double at20 = Loss([1, 0, 0], [0, 2, 0], 1, [0], t: 20, alpha: 0);

        Assert.Equal(at10, at20, 0.02 * at10);
    }
}
