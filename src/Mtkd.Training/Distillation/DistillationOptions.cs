using Mtkd.Training.Distillation.Methods;

namespace Mtkd.Training.Distillation;

/// <summary>
/// Settings of the distillation loss. The defaults (output_avg, T 1, α 0.5) are the recipe that wins in the
/// Fashion-MNIST study (docs/results/fashion-mnist) and `mtkd demo`, in the setting where distillation pays: few
/// labelled images and many unlabelled ones (1,000 + 59,000), three larger teachers trained on the labels, a student
/// 40× cheaper than their ensemble that learns the labels and, on every image, the teachers' own probabilities (T 1:
/// easier for a small student to match than softened ones), trained on a pool of shifted and flipped views scored once
/// by the teachers: +1.55 ± 0.12 points over the same network trained on the labels. With every image labelled the
/// teachers know little beyond the student and no recipe measured there gains more than noise; T 4 (Hinton's) did
/// best when compressing 13×-larger teachers at 20,000 labels (+0.4 ± 0.2).
/// </summary>
public sealed class DistillationOptions
{
    /// <summary>
    /// The method, with its own settings: one of the types in <see cref="Methods"/> (<see cref="DistillationMethods"/>
    /// lists them by name). Default <see cref="OutputAverage"/>.
    /// </summary>
    public DistillationMethod Method { get; set; } = new OutputAverage();

    /// <summary>Softmax temperature T for teachers and student. Default 1 (the teachers' own probabilities; see the class's summary).</summary>
    [Flag("--temperature", "Temperature T.")]
    public double Temperature { get; set; } = 1.0;

    /// <summary>Weight α of the hard-label cross-entropy; the soft term gets 1 − α. Default 0.5.</summary>
    [Flag("--alpha", "Weight of the hard-label cross-entropy.")]
    public double Alpha { get; set; } = 0.5;

    /// <summary>Label smoothing ε of the hard-label term: targets (1 − ε)·one-hot + ε/C. Default 0.</summary>
    [Flag("--label-smoothing", "Label smoothing of the hard-label term.")]
    public double LabelSmoothing { get; set; }

    /// <summary>
    /// Knowledge adjustment: before distilling from stored logits, swap each teacher's logits for its top class and
    /// the true class wherever the two differ (<see cref="TeacherLogitAdjustment"/>). Default false. Not for online
    /// teachers or supernet2, which learns from features.
    /// </summary>
    [Flag("--adjust-wrong-teachers", "Knowledge adjustment: swap each teacher's wrong top class with the true one in stored logits before distilling.")]
    public bool AdjustWrongTeachers { get; set; }

    /// <summary>
    /// Cross-fitted soft labels: each image learns only from the teachers that did not train on it (all of them
    /// where every teacher did), from the <see cref="Data.TeacherColumns.InBag"/> column; see
    /// <see cref="TeacherLogitAdjustment.OutOfBag"/>. Removes the overconfidence of teachers on their own training
    /// images (Dao et al. 2021). For stored logits. Default false.
    /// </summary>
    [Flag("--out-of-bag", "Teach each image by the teachers that did not train on it (cross-fitted soft labels): needs teachers from mtkd teachers, or a soft-label file mtkd score wrote from them.")]
    public bool OutOfBagTeachers { get; set; }

    /// <summary>A copy with the same settings, the method's included.</summary>
    public DistillationOptions Clone()
    {
        var copy = (DistillationOptions)MemberwiseClone();
        copy.Method = Method with { };
        return copy;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Method, nameof(Method));
        Method.Validate();
        if (!(Temperature > 0) || double.IsInfinity(Temperature)) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must be positive.");
        if (!(Alpha is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "Alpha must be in [0, 1].");
        if (!(LabelSmoothing is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(LabelSmoothing), LabelSmoothing, "Label smoothing must be in [0, 1).");
    }
}
