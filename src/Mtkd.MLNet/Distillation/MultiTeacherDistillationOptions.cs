using Microsoft.ML;
using Mtkd.MLNet.Scoring;
using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Engine;
using Mtkd.Training.Teachers;

namespace Mtkd.MLNet.Distillation;

/// <summary>Settings of <see cref="MultiTeacherDistillationTrainer"/>. Column names follow ML.NET's conventions.</summary>
public sealed class MultiTeacherDistillationOptions
{
    /// <summary>
    /// Float vector of C×H×W pixel values in NCHW order, or, with an MLP student (<c>Student = "mlp"</c> or
    /// <c>StudentNetwork = NetworkPresets.Mlp(...)</c>) and no image shape, a feature vector of any length (tabular
    /// features, embeddings), which the student and its ONNX export take as [batch, F]. Default "Features".
    /// </summary>
    public string FeatureColumnName { get; set; } = "Features";

    /// <summary>
    /// Key-typed label (Boolean for the binary trainer); its key values become the classes of <c>PredictedLabel</c>. A row whose key is missing (0) is
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
    public string TeacherLogitsColumnName { get; set; } = TeacherColumns.Logits;

    /// <summary>
    /// With Distillation.OutOfBagTeachers: per teacher 1 where it trained on the row, else 0 (LoadSoftLabels gives it
    /// for files that record the teachers' training rows). Rows of <see cref="UnlabeledData"/> without it count as
    /// seen by none. Default "TeacherInBag".
    /// </summary>
    public string TeacherInBagColumnName { get; set; } = TeacherColumns.InBag;

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

    /// <summary>
    /// A pool of this many views per training image (the image and V − 1 drawn by <c>Trainer.Augmentation</c>'s shift,
    /// flip, rotation or RandAugment), scored by <see cref="Teachers"/> once: the student trains on exactly the views
    /// its teachers judged, for ⌈Trainer.Epochs / V⌉ passes (the Fashion-MNIST study's best recipe: 5 views of shift 2
    /// and flips). Needs Teachers for methods that learn from teachers. Default 1: off.
    /// </summary>
    public int Views { get; set; } = 1;

    /// <summary>Methods that read the teachers' features (supernet2, hint): column of their concatenated features. Default "TeacherFeatures".</summary>
    public string TeacherFeaturesColumnName { get; set; } = TeacherColumns.Features;

    /// <summary>Methods that read features, with <see cref="Teachers"/>: the teachers' output that holds them (Mtkd's teachers: "features"). Default null.</summary>
    public string? TeacherFeaturesOutputName { get; set; }

    /// <summary>Image channels; 0 infers a single-channel square image from the feature length. Default 0.</summary>
    public int ImageChannels { get; set; }

    /// <summary>Image height; 0 infers it (see <see cref="ImageChannels"/>). Default 0.</summary>
    public int ImageHeight { get; set; }

    /// <summary>Image width; 0 infers it (see <see cref="ImageChannels"/>). Default 0.</summary>
    public int ImageWidth { get; set; }

    /// <summary>Student architecture preset: cnn-small, resnet8, resnet20, mobilenet-tiny, mlp (feature vectors), or teacher-cnn. Default "cnn-small".</summary>
    public string Student { get; set; } = NetworkPresets.CnnSmall;

    /// <summary>Base channel count of the student preset. Default null: the preset's own.</summary>
    public int? StudentWidth { get; set; }

    /// <summary>
    /// A student architecture of your own (for example one with a strided stem for large images); when set,
    /// <see cref="Student"/> and <see cref="StudentWidth"/> are ignored. Default null: the preset.
    /// </summary>
    public NetworkSpec? StudentNetwork { get; set; }

    /// <summary>
    /// The optimization settings, the engine's own object (epochs, batch size, optimizer, schedule, early stopping,
    /// augmentation with mixup and CutMix, checkpoints, metrics, device, seed); its defaults apply. Set parts of it
    /// with a nested initializer: <c>new() { Trainer = { Epochs = 10, Schedule = ScheduleKind.Cosine } }</c>.
    /// </summary>
    public TrainerOptions Trainer { get; set; } = new();

    /// <summary>
    /// The distillation loss, the engine's own object: the method (with its own settings), temperature T, α, label
    /// smoothing, knowledge adjustment; its defaults apply (output_avg, T = 1, α = 0.5: the few-labels recipe). α = 1 without teachers trains the same student
    /// the standard way (cross-entropy on the labels alone): the baseline to measure distillation by.
    /// </summary>
    public DistillationOptions Distillation { get; set; } = new();

    /// <summary>
    /// Share of the labelled rows held out (seeded by <c>Trainer.Seed</c>) for validation metrics and early stopping.
    /// Default 0: none, or 0.1 when <c>Trainer.EarlyStoppingPatience</c> is set.
    /// </summary>
    public double ValidationFraction { get; set; }

    /// <summary>
    /// Labelled images to validate on after every epoch (and to early-stop on), instead of holding out a share of
    /// the training rows: the feature and label columns are read, teacher columns are not needed. Cannot be combined
    /// with <see cref="ValidationFraction"/>. Default null.
    /// </summary>
    public IDataView? ValidationSet { get; set; }

    /// <summary>
    /// CUDA device for teachers scored here, for training (when <c>Trainer.Device</c> is unset) and for the fitted
    /// student in ONNX Runtime. Default null: <c>MLContext.GpuDeviceId</c>, itself null (the CPU) unless set. Needs
    /// the GPU builds (-p:MtkdOrtGpu=true, -p:MtkdTorchCuda=true).
    /// </summary>
    public int? GpuDeviceId { get; set; }

    /// <summary>Whether a GPU that cannot be used falls back to the CPU (with a message) or fails. Default null: <c>MLContext.FallbackToCpu</c> (true unless set).</summary>
    public bool? FallbackToCpu { get; set; }

    /// <summary>Receives a report after every training step; null for none. Epoch summaries also go to ML.NET's log as channel messages.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }
}

