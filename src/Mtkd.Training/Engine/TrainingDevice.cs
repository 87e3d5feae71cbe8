using System.Globalization;
using static TorchSharp.torch;

namespace Mtkd.Training.Engine;

/// <summary>Picks the device for training: "cpu" (or null), "cuda" / "cuda:N" (falling back to the CPU with a message unless told not to) or "auto".</summary>
internal static class TrainingDevice
{
    /// <summary>Checks a device name: null, "cpu", "cuda", "cuda:N" or "auto"; returns the CUDA index it names, or null.</summary>
    internal static int? Parse(string? choice) => choice switch
    {
        null or "cpu" or "auto" => null,
        "cuda" => 0,
        _ when choice.StartsWith("cuda:", StringComparison.Ordinal)
               && int.TryParse(choice.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int index) => index,
        _ => throw new ArgumentException($"Device '{choice}' is not one of cpu, cuda, cuda:N, auto.", nameof(TrainerOptions.Device)),
    };

    public static (Device Device, string? Message) Resolve(string? choice, bool fallbackToCpu = true)
    {
        int? index = Parse(choice);
        TorchRuntime.EnsureLoaded();
        if (choice is null or "cpu")
            return (CPU, null);
        int available = TorchSharp.torch.cuda.is_available() ? TorchSharp.torch.cuda.device_count() : 0;
        if (choice == "auto")
            return (available > 0 ? CUDA : CPU, $"Device auto: training on the {(available > 0 ? "GPU (CUDA)" : "CPU")}.");
        if (index < available)
            return (new Device(TorchSharp.DeviceType.CUDA, index.Value), null);
        string why = available == 0
            ? "CUDA is not available (this build uses TorchSharp-cpu, or no GPU is present)"
            : $"CUDA device {index} does not exist (this machine has {available})";
        return fallbackToCpu
            ? (CPU, $"Device {choice} was requested but {why}; training on the CPU.")
            : throw new InvalidOperationException($"Device {choice} was requested but {why}, and falling back to the CPU is turned off.");
    }
}
