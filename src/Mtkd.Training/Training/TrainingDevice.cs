using static TorchSharp.torch;

namespace Mtkd.Training.Training;

/// <summary>Picks the device for training: "cpu", "cuda" (falls back to the CPU with a message) or "auto".</summary>
public static class TrainingDevice
{
    public static (Device Device, string? Message) Resolve(string choice)
    {
        TorchRuntime.EnsureLoaded();
        bool cuda = TorchSharp.torch.cuda.is_available();
        return choice switch
        {
            "cpu" => (CPU, null),
            "cuda" when cuda => (CUDA, null),
            "cuda" => (CPU, "CUDA was requested but is not available (this build uses TorchSharp-cpu, or no GPU is present); training on the CPU."),
            "auto" => (cuda ? CUDA : CPU, $"Device auto: training on the {(cuda ? "GPU (CUDA)" : "CPU")}."),
            _ => throw new ArgumentException($"Device '{choice}' is not one of cpu, cuda, auto."),
        };
    }
}
