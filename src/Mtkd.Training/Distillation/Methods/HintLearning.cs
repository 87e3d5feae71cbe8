using Mtkd.Training.Networks;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Distillation.Methods;

/// <summary>
/// "hint": hint learning (FitNets, Romero et al. 2015). Beside output_avg's loss on the logits, the student's
/// intermediate features are regressed onto the teachers' through a learned projector: loss = output_avg +
/// β·mean((proj(h) − t)²), h the output of the student's hint layer, t the teachers' features concatenated teacher by
/// teacher. The projector is a linear layer when h is a vector, a 1×1 convolution when h is a feature map (t then
/// holds the same H×W positions, channel-major). It is trained with the student and not exported.
/// </summary>
public sealed record HintLearning : DistillationMethod
{
    /// <summary>Weight β of the hint term. Default 1.</summary>
    [Flag("--hint-weight", "Weight of the hint term beside the logit loss.")]
    public double HintWeight { get; set; } = 1;

    /// <summary>
    /// Index of the student layer whose output is the hint (0 is the first layer). Default null: the input of the
    /// final linear layer, the student's penultimate features, which is what Mtkd's teachers export as "features".
    /// </summary>
    [Flag("--hint-layer", "Index of the student layer whose output is the hint (default: the input of its final linear layer).")]
    public int? HintLayer { get; set; }

    public override TeacherSignal Reads => TeacherSignal.Logits | TeacherSignal.Features;

    public override void Validate()
    {
        if (!(HintWeight >= 0) || double.IsInfinity(HintWeight))
            throw new ArgumentOutOfRangeException(nameof(HintWeight), HintWeight, "The hint weight must be 0 or more.");
    }

    internal override void Check(DistillationSetup setup)
    {
        if (!setup.HasFeatures)
            throw new ArgumentException("hint learns from the teachers' features: name the teachers' output that holds them (Mtkd's teachers call it \"features\").");
    }

    internal override MethodRun Start(MethodStart start)
    {
        var student = start.Student;
        int layer = HintLayer ?? student.Spec.Layers.Count - 2;
        if (layer < 0 || layer >= student.Spec.Layers.Count - 1)
            throw new ArgumentOutOfRangeException(nameof(HintLayer), layer, $"The hint layer must be one of the student's layers before its last (0 to {student.Spec.Layers.Count - 2}).");
        var hint = student.Shapes[layer + 1];
        int features = start.FeatureWidth;
        nn.Module<Tensor, Tensor> projector;
        if (hint.Flat)
            projector = nn.Linear(hint.Size, features);
        else if (features % (hint.Height * hint.Width) == 0)
            projector = nn.Conv2d(hint.Channels, features / (hint.Height * hint.Width), 1);
        else
            throw new ArgumentException($"The student's hint layer {layer} gives {hint} maps; the teachers' {features} features are not a whole number " +
                $"of {hint.Height}x{hint.Width} maps. Choose another HintLayer.");
        return new Run(student, layer, projector, this);
    }

    /// <summary>The hint term, mean((projected − teacher)²) over rows and features, [] .</summary>
    internal static Tensor HintLoss(Tensor projected, Tensor teacherFeatures) =>
        (projected.flatten(1) - teacherFeatures).pow(2).mean();

    private sealed class Run(SequentialNetwork student, int layer, nn.Module<Tensor, Tensor> projector, HintLearning method) : MethodRun(student)
    {
        private readonly Sequential companions = nn.Sequential(("projector", projector));

        public override nn.Module Companions => companions;

        public override (Tensor Loss, Tensor Predictions) Step(DistillationBatch batch)
        {
            var (logits, hint) = Student.ForwardWithIntermediate(batch.Images, layer);
            var features = batch.TeacherFeatures ?? throw new InvalidOperationException("hint reads the teachers' features, and this batch has none.");
            var kd = OutputAverage.Compute(logits, batch.RequireTeacherLogits("hint"), batch.Targets, batch.Temperature, batch.Alpha);
            return (kd + method.HintWeight * HintLoss(projector.forward(hint), features), logits);
        }

        public override void Dispose() => companions.Dispose();
    }
}
