using Mtkd.Training.Onnx;

namespace Mtkd.Training.Teachers;

/// <summary>A loaded teacher as the scorer runs it: what was detected or overridden, and where it runs.</summary>
public sealed record TeacherDescription(
    string Name,
    string InputName,
    IReadOnlyList<long> ImageShape,
    ImageLayout InputLayout,
    bool LayoutWasAmbiguous,
    string OutputName,
    TeacherOutputKind OutputKind,
    int ClassCount,
    int? FixedBatchSize,
    long Opset,
    string ExecutionProvider)
{
    /// <summary>Values per image: the product of <see cref="ImageShape"/>.</summary>
    public int InputSize => (int)ImageShape.Aggregate(1L, (a, b) => a * b);

    /// <summary>
    /// Whether the model gives one score per image (a binary classifier's logit, or sigmoid probability, of the second
    /// class); it is scored as two classes, logits [0, z], whose softmax is [1 − σ(z), σ(z)].
    /// </summary>
    public bool SingleOutput { get; init; }

    /// <summary>A specialist's classes (its ONNX metadata "mtkd.specialist"); null for a teacher of all the classes.</summary>
    public SpecialistClasses? Specialist { get; init; }
}
