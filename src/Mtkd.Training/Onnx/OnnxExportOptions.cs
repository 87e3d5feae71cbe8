namespace Mtkd.Training.Onnx;

/// <summary>Names and metadata of an exported model.</summary>
public sealed class OnnxExportOptions
{
    /// <summary>
    /// Folds each batch normalization into the convolution before it (its running statistics and affine
    /// parameters become the convolution's weights and bias): fewer nodes, the same outputs up to rounding. Default false.
    /// </summary>
    public bool FoldBatchNorm { get; set; }

    /// <summary>The newest operator set the exporter writes and its tests load in ONNX Runtime.</summary>
    public const int NewestOpset = 21;

    /// <summary>ONNX operator set, 9 to <see cref="NewestOpset"/>. Default 13.</summary>
    public int Opset { get; set; } = 13;

    /// <summary>Graph input: float32 [batch, C, H, W]. Default "input".</summary>
    public string InputName { get; set; } = "input";

    /// <summary>Graph output with the class logits, [batch, classes]. Default "logits".</summary>
    public string LogitsName { get; set; } = "logits";

    /// <summary>
    /// A two-class network exported as a binary classifier: one logit z = logit(class 1) − logit(class 0), [batch, 1]
    /// (what ML.NET's binary trainers call <c>Score</c>), and as probabilities σ(z), the probability of class 1. Read
    /// back as a teacher it gives the same two-class distribution. Default false: one logit per class.
    /// </summary>
    public bool BinaryLogit { get; set; }

    /// <summary>Graph output with softmax probabilities (with <see cref="BinaryLogit"/>: σ of the logit); null leaves it out. Default "probabilities".</summary>
    public string? ProbabilitiesName { get; set; } = "probabilities";

    /// <summary>
    /// Name of an extra output with the penultimate activations (the input of the final linear layer), which
    /// supernet2 distillation reads; null for none. Default null.
    /// </summary>
    public string? FeaturesName { get; set; }

    /// <summary>Class names, stored in the metadata property "class_names" (JSON array).</summary>
    public IReadOnlyList<string>? ClassNames { get; set; }

    /// <summary>
    /// The rows the network trained on, stored as metadata "mtkd.training_rows" so soft labels scored from the file
    /// can be made out-of-bag later (<see cref="SoftLabels.TrainingRowSet"/>). Default null: not stored.
    /// </summary>
    public SoftLabels.TrainingRowSet? TrainingRows { get; set; }

    /// <summary>
    /// How images of another size were brought to the input size for training (fill, pad or crop, as ML.NET's
    /// ResizeImages), stored as metadata "resize" so prediction can do the same; null (the default) stores nothing.
    /// </summary>
    public Data.ResizeMode? Resize { get; set; }

    /// <summary>
    /// A specialist's classes (its outputs are those classes and "other"), stored as metadata "mtkd.specialist" so that
    /// teachers read from the file are unified with the other specialists. Default null: a model of all the classes.
    /// </summary>
    public Teachers.SpecialistClasses? Specialist { get; set; }

    /// <summary>How pixels were scaled for training, stored as metadata "normalization". Default "pixel/255".</summary>
    public string Normalization { get; set; } = "pixel/255";
}
