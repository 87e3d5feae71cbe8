using Mtkd.Training.Networks;
using Mtkd.Training.Training;

namespace Mtkd.MLNet.Distillation;

/// <summary>Settings of <see cref="MultiTeacherDistillationTrainer"/>. Column names follow ML.NET's conventions.</summary>
public sealed class MultiTeacherDistillationOptions
{
    /// <summary>Float vector of C×H×W pixel values in NCHW order. Default "Features".</summary>
    public string FeatureColumnName { get; set; } = "Features";

    /// <summary>Key-typed label; its key values become the classes of <c>PredictedLabel</c>. Default "Label".</summary>
    public string LabelColumnName { get; set; } = "Label";

    /// <summary>Teacher logits, as added by ScoreTeachers. Default "TeacherLogits".</summary>
    public string TeacherLogitsColumnName { get; set; } = "TeacherLogits";

    /// <summary>Image channels; 0 infers a single-channel square image from the feature length. Default 0.</summary>
    public int ImageChannels { get; set; }

    /// <summary>Image height; 0 infers it (see <see cref="ImageChannels"/>). Default 0.</summary>
    public int ImageHeight { get; set; }

    /// <summary>Image width; 0 infers it (see <see cref="ImageChannels"/>). Default 0.</summary>
    public int ImageWidth { get; set; }

    /// <summary>Student architecture preset. Default "cnn-small".</summary>
    public string Student { get; set; } = NetworkPresets.CnnSmall;

    /// <summary>Distillation epochs. Default 5.</summary>
    public int Epochs { get; set; } = 5;

    /// <summary>Images per step. Default 128.</summary>
    public int BatchSize { get; set; } = 128;

    /// <summary>Adam learning rate. Default 0.002.</summary>
    public double LearningRate { get; set; } = 2e-3;

    /// <summary>Seed of initialization and batch order. Default 1.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Softmax temperature T. Default 4.</summary>
    public double Temperature { get; set; } = 4.0;

    /// <summary>Weight α of the hard-label cross-entropy. Default 0.5.</summary>
    public double Alpha { get; set; } = 0.5;

    /// <summary>Receives a report after every training step; null for none.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }
}
