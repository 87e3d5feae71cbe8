using Mtkd.Training.Networks;
using static TorchSharp.torch;

namespace Mtkd.Training.Distillation;

/// <summary>What a method is told when a run is checked: the teachers and data it would train with.</summary>
/// <param name="TeacherCount">K (0 without teachers).</param>
/// <param name="Online">Whether the teachers score every batch instead of once.</param>
/// <param name="HasFeatures">Whether the teachers' features are there (stored, or online teachers that give them).</param>
/// <param name="UnlabeledCount">Training images without a label.</param>
/// <param name="Options">The run's distillation options.</param>
internal sealed record DistillationSetup(int TeacherCount, bool Online, bool HasFeatures, int UnlabeledCount, DistillationOptions Options);

/// <summary>Stored teacher signals of the training rows: logits [N, K, C] and, where there are, features [N, F].</summary>
internal sealed record StoredTeachers(float[] Logits, int Count, float[]? Features);

/// <summary>What a method starts a run from.</summary>
/// <param name="Student">The student the run exports, created with the method's <see cref="DistillationMethod.StudentHeads"/>.</param>
/// <param name="CreatePeer">Another student of the same architecture, its weights seeded by the index (1, 2, …).</param>
/// <param name="TeacherCount">K.</param>
/// <param name="FeatureWidth">Values per image of the teachers' features, 0 without them.</param>
/// <param name="Options">The run's distillation options.</param>
internal sealed record MethodStart(SequentialNetwork Student, Func<int, SequentialNetwork> CreatePeer, int TeacherCount, int FeatureWidth, DistillationOptions Options)
{
    /// <summary>A network of another architecture on the same data, its weights seeded by the index (1, 2, …).</summary>
    public Func<NetworkSpec, int, SequentialNetwork> CreateNetwork { get; init; } = (_, _) => throw new NotSupportedException("This run creates no other networks.");
}

/// <summary>One training step's inputs, on the training device, in the step's dispose scope.</summary>
internal sealed class DistillationBatch(Tensor images, Tensor? teacherLogits, Tensor? teacherFeatures, LabelTargets targets, DistillationOptions options)
{
    /// <summary>The (augmented, mixed) images [B, C, H, W].</summary>
    public Tensor Images => images;

    /// <summary>The teachers' logits [B, K, C] for these very images (stored ones mixed as the batch was); null without teachers.</summary>
    public Tensor? TeacherLogits => teacherLogits;

    /// <summary>The teachers' features [B, F], concatenated teacher by teacher; null unless the method reads them.</summary>
    public Tensor? TeacherFeatures => teacherFeatures;

    /// <summary>The hard-label targets (smoothed, mixed; rows without a label weigh 0).</summary>
    public LabelTargets Targets => targets;

    public double Temperature => options.Temperature;
    public double Alpha => options.Alpha;

    /// <summary>The cross-entropy of <paramref name="logits"/> against the labels, over the labelled rows.</summary>
    public Tensor HardLoss(Tensor logits) => DistillationLoss.HardLoss(logits, targets);

    public Tensor RequireTeacherLogits(string method) =>
        teacherLogits ?? throw new InvalidOperationException($"{method} reads the teachers' logits, and this run has none.");
}

/// <summary>
/// A method's training of one run: its step, and what it trains beside the student (a projector, peer students),
/// which the loop optimizes, checkpoints and moves to the device with the student.
/// </summary>
internal abstract class MethodRun(SequentialNetwork student) : IDisposable
{
    /// <summary>The student whose accuracy the loop reports and validates, and the run exports.</summary>
    public SequentialNetwork Student => student;

    /// <summary>Modules trained beside the student; null for none.</summary>
    public virtual nn.Module? Companions => null;

    /// <summary>Every student this run trains, <see cref="Student"/> first.</summary>
    public virtual IReadOnlyList<SequentialNetwork> Students => [student];

    /// <summary>
    /// Which of <see cref="Students"/> the run's result exports, when the method decides it; null (the default): the
    /// best on validation, else the first (students trained together that are alternatives of each other).
    /// </summary>
    public virtual int? ExportedStudent => null;

    /// <summary>The step's loss and the [B, C] logits whose accuracy is reported.</summary>
    public abstract (Tensor Loss, Tensor Predictions) Step(DistillationBatch batch);

    /// <summary>Frees what the run created (not the student, which the caller owns).</summary>
    public virtual void Dispose()
    {
    }
}
