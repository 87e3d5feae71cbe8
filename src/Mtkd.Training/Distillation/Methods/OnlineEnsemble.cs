using System.Globalization;
using Mtkd.Training.Networks;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Distillation.Methods;

/// <summary>
/// "online_ensemble": online ensemble compression (Walawalkar, Shen, Savvides, ECCV 2020). One network definition, the
/// student's, becomes a branch per width in <see cref="Widths"/> (the first the student itself, the others with every
/// channel count scaled), sharing the student's first <see cref="StemLayers"/> layers and trained together from scratch,
/// with no teachers: the branches' mean logits are the teacher. Loss, summed over the branches i:
/// <c>LabelWeight·CE(z_i) + EnsembleWeight·T²·KL(softmax(mean_j z_j / T), detached ‖ softmax(z_i / T)) +
/// FeatureWeight·MSE(adapter_i(f_i), f_0 detached)</c>, where f_i is branch i's last feature map and adapter_i a 1×1
/// convolution onto the widest branch's channels (the paper's adapters sit after every block; here after the last).
/// The paper's weights are 0.7, 0.15, 0.15 and T 2 (<c>--temperature 2</c>). Every branch is a student of its own
/// (the stem copied in), the narrowest is the run's exported student.
/// </summary>
public sealed record OnlineEnsemble : DistillationMethod
{
    /// <summary>Width of each branch as a share of the student's, the first 1 (the student). Default 1, 0.8, 0.6, 0.4, 0.2 (the paper's five branches).</summary>
    [Flag("--widths", "Width of each branch as a share of the student's, widest first, the first 1.")]
    public double[] Widths { get; set; } = [1, 0.8, 0.6, 0.4, 0.2];

    /// <summary>Layers of the student every branch shares (the stem). Default 3: every preset's first convolution, batch norm and ReLU.</summary>
    [Flag("--stem-layers", "Layers of the student every branch shares (the stem).")]
    public int StemLayers { get; set; } = 3;

    /// <summary>Weight of each branch's cross-entropy on the labels. Default 0.7 (the paper's α).</summary>
    [Flag("--label-weight", "Weight of each branch's cross-entropy on the labels.")]
    public double LabelWeight { get; set; } = 0.7;

    /// <summary>Weight of each branch's KL divergence to the branches' ensemble, times T². Default 0.15 (the paper's γ).</summary>
    [Flag("--ensemble-weight", "Weight of each branch's KL divergence to the branches' ensemble.")]
    public double EnsembleWeight { get; set; } = 0.15;

    /// <summary>Weight of the adapted feature maps' squared error to the widest branch's. Default 0.15 (the paper's β).</summary>
    [Flag("--feature-weight", "Weight of the adapted feature maps' squared error to the widest branch's.")]
    public double FeatureWeight { get; set; } = 0.15;

    public override TeacherSignal Reads => TeacherSignal.None;

    public override void Validate()
    {
        if (Widths is null || Widths.Length < 2)
            throw new ArgumentException("Online ensemble compression trains two or more branches: give two or more --widths.", nameof(Widths));
        if (Widths[0] != 1)
            throw new ArgumentOutOfRangeException(nameof(Widths), Widths[0], "The first width is the student itself: 1.");
        foreach (var w in Widths)
            if (!(w is > 0 and <= 1))
                throw new ArgumentOutOfRangeException(nameof(Widths), w, "Every width is a share of the student's, in (0, 1].");
        for (int i = 1; i < Widths.Length; i++)
            if (Widths[i] >= Widths[i - 1])
                throw new ArgumentOutOfRangeException(nameof(Widths), Widths[i], "Widths go from the widest to the narrowest, each narrower than the one before.");
        if (StemLayers < 0) throw new ArgumentOutOfRangeException(nameof(StemLayers), StemLayers, "The stem has 0 or more layers.");
        foreach (var (name, value) in new[] { (nameof(LabelWeight), LabelWeight), (nameof(EnsembleWeight), EnsembleWeight), (nameof(FeatureWeight), FeatureWeight) })
            if (!(value >= 0) || double.IsInfinity(value))
                throw new ArgumentOutOfRangeException(name, value, "A loss weight is 0 or more.");
    }

    internal override void Check(DistillationSetup setup)
    {
        if (setup.TeacherCount > 0)
            throw new ArgumentException("online_ensemble trains branches that teach each other; it uses no teachers. Give none, or choose a method that learns from them.");
    }

    internal override MethodRun Start(MethodStart start)
    {
        var student = start.Student;
        int featureLayer = LastFeatureMap(student);
        if (StemLayers > featureLayer)
            throw new ArgumentException($"--stem-layers {StemLayers}: {student.Spec.Name} has {featureLayer} layers before its last feature map; the branches must keep some of their own.");
        var branches = Widths.Skip(1).Select((w, i) => start.CreateNetwork(student.Spec.Narrowed(w, StemLayers) with { Name = $"{student.Spec.Name}-w{w.ToString(CultureInfo.InvariantCulture)}" }, i + 1))
            .ToArray();
        int channels = student.Shapes[featureLayer].Channels;
        var adapters = branches.Select(b => (nn.Module<Tensor, Tensor>)nn.Conv2d(b.Shapes[featureLayer].Channels, channels, 1, bias: false)).ToArray();
        return new Run(this, student, branches, adapters, featureLayer);
    }

    // The index in Shapes of the last spatial (C×H×W) activation: the output of the layer before the first flat one.
    private static int LastFeatureMap(SequentialNetwork network)
    {
        int last = 0;
        for (int i = 1; i < network.Shapes.Count && !network.Shapes[i].Flat; i++) last = i;
        return last;
    }

    /// <summary>The loss of the branches' logits (widest first) and feature maps adapted to the widest's (widest first: its own, unadapted), one tensor each.</summary>
    internal Tensor Compute(IReadOnlyList<Tensor> logits, IReadOnlyList<Tensor> features, LabelTargets targets, double temperature)
    {
        using var scope = NewDisposeScope();
        var ensemble = nn.functional.softmax(stack(logits).mean([0]).detach() / temperature, dim: 1);
        var widest = features[0].detach();
        Tensor total = zeros(1, device: logits[0].device).squeeze();
        for (int i = 0; i < logits.Count; i++)
        {
            var logQ = nn.functional.log_softmax(logits[i] / temperature, dim: 1);
            total = total + LabelWeight * DistillationLoss.HardLoss(logits[i], targets)
                + EnsembleWeight * temperature * temperature * DistillationLoss.KlDivergence(ensemble, logQ).mean();
            if (i > 0)
                total = total + FeatureWeight * nn.functional.mse_loss(features[i], widest);
        }
        return total.MoveToOuterDisposeScope();
    }

    private sealed class Run : MethodRun
    {
        private readonly OnlineEnsemble method;
        private readonly SequentialNetwork[] branches;
        private readonly nn.Module<Tensor, Tensor>[] adapters;
        private readonly CompanionModules companions;
        private readonly int featureLayer;

        public Run(OnlineEnsemble method, SequentialNetwork student, SequentialNetwork[] branches, nn.Module<Tensor, Tensor>[] adapters, int featureLayer)
            : base(student)
        {
            this.method = method;
            this.branches = branches;
            this.adapters = adapters;
            this.featureLayer = featureLayer;
            companions = new CompanionModules([.. branches, .. adapters]);
        }

        public override nn.Module Companions => companions;

        /// <summary>Every branch, widest first, each with the shared stem's current weights copied into its own.</summary>
        public override IReadOnlyList<SequentialNetwork> Students
        {
            get
            {
                using (NewDisposeScope())
                using (no_grad())
                    foreach (var branch in branches)
                        for (int layer = 0; layer < method.StemLayers; layer++)
                            branch.LayerModules[layer].load_state_dict(Student.LayerModules[layer].state_dict());
                return [Student, .. branches];
            }
        }

        public override int? ExportedStudent => branches.Length; // the narrowest: the point of compression

        public override (Tensor Loss, Tensor Predictions) Step(DistillationBatch batch)
        {
            // The stem runs once, in the student; each branch continues from its output with its own layers.
            var stem = batch.Images;
            for (int layer = 0; layer < method.StemLayers; layer++) stem = Student.LayerModules[layer].forward(stem);
            var (logits, features) = (new List<Tensor>(), new List<Tensor>());
            foreach (var (network, index) in new[] { Student }.Concat(branches).Select((n, i) => (n, i)))
            {
                var x = stem;
                Tensor? feature = null;
                for (int layer = method.StemLayers; layer < network.LayerModules.Count; layer++)
                {
                    x = network.LayerModules[layer].forward(x);
                    if (layer + 1 == featureLayer) feature = x;
                }
                feature ??= stem; // a stem that ends at the last feature map
                logits.Add(x);
                features.Add(index == 0 ? feature : adapters[index - 1].forward(feature));
            }
            return (method.Compute(logits, features, batch.Targets, batch.Temperature), logits[0]);
        }
    }
}
