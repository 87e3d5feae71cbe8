using Microsoft.ML.OnnxRuntime;

namespace Mtkd.Training.Teachers;

/// <summary>
/// Resolves a request to run an ONNX model on a CUDA device. The CPU-only ONNX Runtime has no CUDA entry point at
/// all, which neither ONNX Runtime's errors nor ML.NET's own fallback cover, so the provider is probed here once
/// for teachers and students alike.
/// </summary>
internal static class CudaProvider
{
    /// <summary>
    /// The device to use (null: the CPU) and a description of where the model runs. Without
    /// <paramref name="fallbackToCpu"/> an unavailable device throws, naming <paramref name="subject"/>.
    /// </summary>
    public static (int? DeviceId, string Provider) Resolve(int? gpuDeviceId, bool fallbackToCpu, string subject)
    {
        if (gpuDeviceId is not { } device)
            return (null, "CPU");
        try
        {
            using var probe = SessionOptions.MakeSessionOptionWithCudaProvider(device);
            return (device, $"CUDA device {device}");
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            if (!fallbackToCpu)
                throw new InvalidOperationException(
                    $"{subject}: GPU device {device} was requested but CUDA is not available ({ex.Message}). Build with -p:MtkdOrtGpu=true on a machine with CUDA, or allow the CPU fallback.", ex);
            return (null, $"CPU (CUDA device {device} unavailable: {ex.Message.Split('\n')[0].Trim()})");
        }
    }
}
