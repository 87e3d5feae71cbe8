namespace Mtkd.Training.Engine;

/// <summary>
/// The learning rate at any step, as a pure function of the step: nothing to save in a checkpoint, and a resumed
/// run follows exactly the schedule of an uninterrupted one.
/// </summary>
internal static class LearningRateSchedule
{
    /// <param name="options">Base rate, schedule and warm-up.</param>
    /// <param name="step">Step index from 0 across the whole run.</param>
    /// <param name="stepsPerEpoch">Steps in one epoch.</param>
    public static double At(TrainerOptions options, long step, int stepsPerEpoch)
    {
        double lr = options.LearningRate;
        double epoch = (double)step / stepsPerEpoch; // fractional epochs done before this step
        if (epoch < options.WarmupEpochs)
            return lr * (step + 1) / (options.WarmupEpochs * stepsPerEpoch);
        double span = options.Epochs - options.WarmupEpochs;
        double progress = Math.Clamp((epoch - options.WarmupEpochs) / span, 0, 1);
        return options.Schedule switch
        {
            ScheduleKind.Constant => lr,
            ScheduleKind.Cosine => lr * 0.5 * (1 + Math.Cos(Math.PI * progress)),
            ScheduleKind.OneCycle => progress < 0.3
                ? lr / 25 + (lr - lr / 25) * 0.5 * (1 - Math.Cos(Math.PI * progress / 0.3))
                : lr / 1e4 + (lr - lr / 1e4) * 0.5 * (1 + Math.Cos(Math.PI * (progress - 0.3) / 0.7)),
            ScheduleKind.Step => lr * Math.Pow(options.StepGamma, Math.Floor((epoch - options.WarmupEpochs) / options.StepEpochs)),
            ScheduleKind.CyclicCosine => lr * 0.5 * (1 + Math.Cos(Math.PI * (((epoch - options.WarmupEpochs) % options.CycleEpochs) / options.CycleEpochs))),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Schedule, "Unknown schedule."),
        };
    }
}
