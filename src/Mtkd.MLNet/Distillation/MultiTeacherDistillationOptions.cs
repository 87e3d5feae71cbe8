using Microsoft.ML;
using Mtkd.MLNet.Scoring;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Training;

namespace Mtkd.MLNet.Distillation;

/// <summary>Settings of <see cref="MultiTeacherDistillationTrainer"/>. Column names follow ML.NET's conventions.</summary>
public sealed class MultiTeacherDistillationOptions
{
    /// <summary>Float vector of C×H×W pixel values in NCHW order. Default "Features".</summary>
    public string FeatureColumnName { get; set; } = "Features";

    /// <summary>
    /// Key-typed label; its key values become the classes of <c>PredictedLabel</c>. A row whose key is missing (0) is
    /// unlabelled: it learns from the teachers alone (the hard term averages over labelled rows only). Default "Label".
    /// </summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>
    /// Images without labels, trained on beside the training data: the same feature column, and the teacher logits
    /// column (or <see cref="Teachers"/> to score them), no label column needed. Where an ensemble's knowledge
    /// transfers best (Noisy Student, SimCLRv2). Validation rows are held out from the labelled rows only. Default null.
    /// </summary>
    public IDataView? UnlabeledData { get; set; }

    /// <summary>Teacher logits, as added by ScoreTeachers. Default "TeacherLogits".</summary>
    public string TeacherLogitsColumnName { get; set; } = "TeacherLogits";

    /// <summary>
    /// Teachers to score on the fly when the data has no <see cref="TeacherLogitsColumnName"/> column. Default empty:
    /// the column must be there (from ScoreTeachers or LoadSoftLabels).
    /// </summary>
    public IReadOnlyList<TeacherModel> Teachers { get; set; } = [];

    /// <summary>
    /// Score <see cref="Teachers"/> on every training batch after augmentation ("consistent" teaching, Beyer et al.
    /// 2022) instead of once per image. Needs Teachers; not for the supernet modes. Default false.
    /// </summary>
    public bool ConsistentTeaching { get; set; }

    /// <summary>supernet2 only: column of the teachers' concatenated penultimate features. Default "TeacherFeatures".</summary>
    public string TeacherFeaturesColumnName { get; set; } = "TeacherFeatures";

    /// <summary>supernet2 with on-the-fly scoring: the teachers' output that holds their penultimate features. Default null.</summary>
    public string? TeacherFeaturesOutputName { get; set; }

    /// <summary>Distillation mode. Default <see cref="DistillationMode.OutputAverage"/>.</summary>
    public DistillationMode Mode { get; set; } = DistillationMode.OutputAverage;

    /// <summary>Label smoothing ε of the hard-label term. Default 0.</summary>
    public double LabelSmoothing { get; set; }

    /// <summary>Image channels; 0 infers a single-channel square image from the feature length. Default 0.</summary>
    public int ImageChannels { get; set; }

    /// <summary>Image height; 0 infers it (see <see cref="ImageChannels"/>). Default 0.</summary>
    public int ImageHeight { get; set; }

    /// <summary>Image width; 0 infers it (see <see cref="ImageChannels"/>). Default 0.</summary>
    public int ImageWidth { get; set; }

    /// <summary>Student architecture preset: cnn-small, resnet8, resnet20, mobilenet-tiny (or teacher-cnn). Default "cnn-small".</summary>
    public string Student { get; set; } = NetworkPresets.CnnSmall;

    /// <summary>Base channel count of the student preset. Default null: the preset's own.</summary>
    public int? StudentWidth { get; set; }

    /// <summary>
    /// A student architecture of your own (for example one with a strided stem for large images); when set,
    /// <see cref="Student"/> and <see cref="StudentWidth"/> are ignored. Default null: the preset.
    /// </summary>
    public NetworkSpec? StudentNetwork { get; set; }

    /// <summary>Distillation epochs. Default 5.</summary>
    public int Epochs { get; set; } = 5;

    /// <summary>Images per step. Default 128.</summary>
    public int BatchSize { get; set; } = 128;

    /// <summary>Base learning rate. Default 0.002.</summary>
    public double LearningRate { get; set; } = 2e-3;

    /// <summary>Optimizer. Default Adam.</summary>
    public OptimizerKind Optimizer { get; set; } = OptimizerKind.Adam;

    /// <summary>Weight decay. Default 0.</summary>
    public double WeightDecay { get; set; }

    /// <summary>SGD momentum. Default 0.9.</summary>
    public double Momentum { get; set; } = 0.9;

    /// <summary>Nesterov momentum for SGD. Default false.</summary>
    public bool Nesterov { get; set; }

    /// <summary>Learning-rate schedule. Default constant.</summary>
    public ScheduleKind Schedule { get; set; } = ScheduleKind.Constant;

    /// <summary>Epochs of linear warm-up. Default 0.</summary>
    public double WarmupEpochs { get; set; }

    /// <summary>Early-stopping patience in epochs on the validation split. Default null: off.</summary>
    public int? EarlyStoppingPatience { get; set; }

    /// <summary>What early stopping watches. Default validation loss.</summary>
    public EarlyStoppingMetric EarlyStoppingMetric { get; set; } = EarlyStoppingMetric.ValidationLoss;

    /// <summary>
    /// Share of the rows held out (seeded) for validation metrics and early stopping. Default 0: none, or 0.1
    /// when <see cref="EarlyStoppingPatience"/> is set.
    /// </summary>
    public double ValidationFraction { get; set; }

    /// <summary>Random augmentation of training batches. Default: none.</summary>
    public AugmentationOptions Augmentation { get; set; } = new();

    /// <summary>Folder for per-epoch checkpoints; fitting again with the same folder resumes. Default null: none.</summary>
    public string? CheckpointDirectory { get; set; }

    /// <summary>Per-epoch metrics CSV. Default null: none.</summary>
    public string? MetricsPath { get; set; }

    /// <summary>"cpu", "cuda" (falls back to the CPU) or "auto". Default "cpu".</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>CUDA device on which the fitted student runs in ONNX Runtime. Default null: the CPU. Needs the GPU build.</summary>
    public int? GpuDeviceId { get; set; }

    /// <summary>Whether the fitted student falls back to the CPU when <see cref="GpuDeviceId"/> cannot be used. Default true.</summary>
    public bool FallbackToCpu { get; set; } = true;

    /// <summary>Seed of initialization and batch order. Default 1.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Softmax temperature T. Default 4.</summary>
    public double Temperature { get; set; } = 4.0;

    /// <summary>
    /// Weight α of the hard-label cross-entropy. Default 0.5. α = 1 without teachers or a logits column trains the
    /// same student the standard way (cross-entropy on the labels alone): the baseline to measure distillation by.
    /// </summary>
    public double Alpha { get; set; } = 0.5;

    /// <summary>Receives a report after every training step; null for none. Epoch summaries also go to ML.NET's log as channel messages.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }
}

