namespace Mtkd.Training.Engine;

/// <summary>Optimizers.</summary>
public enum OptimizerKind
{
    /// <summary>Adam (Kingma and Ba 2015); weight decay as an L2 term in the gradient.</summary>
    Adam,

    /// <summary>AdamW (Loshchilov and Hutter 2019): Adam with decoupled weight decay.</summary>
    AdamW,

    /// <summary>Stochastic gradient descent with momentum, optionally Nesterov's.</summary>
    Sgd,
}

/// <summary>Learning-rate schedules, applied per step after the warm-up.</summary>
public enum ScheduleKind
{
    /// <summary>The base learning rate throughout.</summary>
    Constant,

    /// <summary>Cosine decay from the base rate to 0 (Loshchilov and Hutter 2017).</summary>
    Cosine,

    /// <summary>One cycle (Smith 2018): up from base/25 to the base rate over the first 30 %, then cosine down to base/10⁴.</summary>
    OneCycle,

    /// <summary>Multiplied by <see cref="TrainerOptions.StepGamma"/> every <see cref="TrainerOptions.StepEpochs"/> epochs.</summary>
    Step,

    /// <summary>Cosine decay restarted every <see cref="TrainerOptions.CycleEpochs"/> epochs: the snapshot-ensemble schedule (Huang et al. 2017).</summary>
    [FlagValue("cyclic")]
    CyclicCosine,
}

/// <summary>The quantity early stopping watches on the validation data.</summary>
public enum EarlyStoppingMetric
{
    /// <summary>Lower is better.</summary>
    [FlagValue("loss")]
    ValidationLoss,

    /// <summary>Higher is better.</summary>
    [FlagValue("accuracy")]
    ValidationAccuracy,
}

/// <summary>Optimization settings shared by teacher training and distillation.</summary>
public sealed class TrainerOptions
{
    /// <summary>Passes over the training data. Default 5.</summary>
    [Flag("--epochs", "Passes over the training data.")]
    public int Epochs { get; set; } = 5;

    /// <summary>Images per step. Default 128.</summary>
    [Flag("--batch-size", "Images per step.")]
    public int BatchSize { get; set; } = 128;

    /// <summary>Base learning rate. Default 0.002 (suits Adam; use about 0.05 with SGD).</summary>
    [Flag("--lr", "Base learning rate (about 0.05 suits SGD).")]
    public double LearningRate { get; set; } = 2e-3;

    /// <summary>Seed of weight initialization, batch order, dropout and augmentation; the same seed gives bit-identical weights on CPU. Default 1.</summary>
    [Flag("--seed", "Random seed; the same seed gives the same weights on the CPU.")]
    public int Seed { get; set; } = 1;

    /// <summary>Optimizer. Default <see cref="OptimizerKind.Adam"/>.</summary>
    [Flag("--optimizer", "The optimizer.")]
    public OptimizerKind Optimizer { get; set; } = OptimizerKind.Adam;

    /// <summary>Weight decay. Default 0.</summary>
    [Flag("--weight-decay", "Weight decay.")]
    public double WeightDecay { get; set; }

    /// <summary>SGD momentum. Default 0.9.</summary>
    [Flag("--momentum", "SGD momentum.")]
    public double Momentum { get; set; } = 0.9;

    /// <summary>Nesterov momentum for SGD. Default false.</summary>
    [Flag("--nesterov", "Nesterov momentum for SGD.")]
    public bool Nesterov { get; set; }

    /// <summary>Learning-rate schedule. Default <see cref="ScheduleKind.Constant"/>.</summary>
    [Flag("--schedule", "The learning-rate schedule.")]
    public ScheduleKind Schedule { get; set; } = ScheduleKind.Constant;

    /// <summary>Epochs of linear warm-up from 0 to the base rate before the schedule starts (fractions allowed). Default 0.</summary>
    [Flag("--warmup", "Epochs of linear learning-rate warm-up.")]
    public double WarmupEpochs { get; set; }

    /// <summary>For <see cref="ScheduleKind.Step"/>: epochs between decays. Default 10.</summary>
    [Flag("--step-epochs", "--schedule step: epochs between decays.")]
    public int StepEpochs { get; set; } = 10;

    /// <summary>For <see cref="ScheduleKind.Step"/>: the decay factor. Default 0.1.</summary>
    [Flag("--step-gamma", "--schedule step: the decay factor.")]
    public double StepGamma { get; set; } = 0.1;

    /// <summary>For <see cref="ScheduleKind.CyclicCosine"/>: epochs per cycle. Default 5.</summary>
    [Flag("--cycle-epochs", "--schedule cyclic: epochs per cosine cycle.")]
    public int CycleEpochs { get; set; } = 5;

    /// <summary>Stop after this many epochs without improvement on the validation data, restoring the best weights. Default null: off.</summary>
    [Flag("--patience", "Early stopping: epochs without improvement on the validation split before stopping (keeps the best weights); 0 is off.", ZeroIsNull = true)]
    public int? EarlyStoppingPatience { get; set; }

    /// <summary>What early stopping watches. Default <see cref="EarlyStoppingMetric.ValidationLoss"/>.</summary>
    [Flag("--early-stopping", "What early stopping watches.")]
    public EarlyStoppingMetric EarlyStoppingMetric { get; set; } = EarlyStoppingMetric.ValidationLoss;

    /// <summary>Random augmentation of training batches. Default: none.</summary>
    public AugmentationOptions Augmentation { get; set; } = new();

    /// <summary>Folder for a checkpoint after every epoch; a run finding one there resumes from it. Default null: none.</summary>
    public string? CheckpointDirectory { get; set; }

    /// <summary>CSV file of per-epoch metrics, rewritten after every epoch. Default null: none.</summary>
    public string? MetricsPath { get; set; }

    /// <summary>
    /// "cpu", "cuda" or "cuda:N" (device N; falls back to the CPU with a message when it cannot be used), or "auto"
    /// (CUDA when available). Default null: the host's choice, the CPU unless the ML.NET trainer's MLContext names
    /// a GPU (<c>MLContext.GpuDeviceId</c>, where <c>FallbackToCpu</c> decides whether it may fall back).
    /// </summary>
    [Flag("--device", "cpu, cuda or cuda:N (falls back to the CPU with a message) or auto.")]
    public string? Device { get; set; }

    /// <summary>A copy of every setting (the augmentation settings shared), to vary per run.</summary>
    internal TrainerOptions Clone() => (TrainerOptions)MemberwiseClone();

    /// <summary>
    /// A copy for one of several runs of a job (a teacher of an ensemble, a setting of a sweep): its metrics file and
    /// checkpoint folder get <paramref name="suffix"/> before their extension, so the runs keep theirs apart.
    /// </summary>
    internal TrainerOptions ForRun(string suffix)
    {
        var copy = Clone();
        copy.MetricsPath = Suffixed(MetricsPath, suffix);
        copy.CheckpointDirectory = Suffixed(CheckpointDirectory, suffix);
        return copy;

        static string? Suffixed(string? path, string suffix) =>
            path is null ? null : Path.Combine(Path.GetDirectoryName(path) ?? "", Path.GetFileNameWithoutExtension(path) + suffix + Path.GetExtension(path));
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Need at least one epoch.");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "Batch size must be positive.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "Learning rate must be positive.");
        if (!Enum.IsDefined(Optimizer)) throw new ArgumentOutOfRangeException(nameof(Optimizer), Optimizer, "Unknown optimizer.");
        if (!Enum.IsDefined(Schedule)) throw new ArgumentOutOfRangeException(nameof(Schedule), Schedule, "Unknown schedule.");
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "Weight decay must not be negative.");
        if (!(Momentum is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, "Momentum must be in [0, 1).");
        if (!(WarmupEpochs >= 0) || WarmupEpochs >= Epochs) throw new ArgumentOutOfRangeException(nameof(WarmupEpochs), WarmupEpochs, "Warm-up must be shorter than the run.");
        if (StepEpochs < 1 || CycleEpochs < 1) throw new ArgumentOutOfRangeException(nameof(StepEpochs), "StepEpochs and CycleEpochs must be positive.");
        if (!(StepGamma > 0) || double.IsInfinity(StepGamma)) throw new ArgumentOutOfRangeException(nameof(StepGamma), StepGamma, "StepGamma must be positive.");
        if (EarlyStoppingPatience is < 1) throw new ArgumentOutOfRangeException(nameof(EarlyStoppingPatience), EarlyStoppingPatience, "Patience must be at least one epoch.");
        TrainingDevice.Parse(Device);
        Augmentation.Validate();
    }
}
