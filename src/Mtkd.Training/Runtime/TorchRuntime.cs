using TorchSharp;

namespace Mtkd.Training;

/// <summary>Loads TorchSharp's native back end once, turning a load failure into an explanation.</summary>
public static class TorchRuntime
{
    private static readonly Lazy<Exception?> LoadError = new(TryLoad);

    /// <summary>Throws a clear error when libtorch or TorchSharp's native bridge cannot be loaded.</summary>
    public static void EnsureLoaded()
    {
        if (LoadError.Value is { } error)
            throw new InvalidOperationException(
                "TorchSharp's native libraries failed to load. On Linux with a libstdc++ older than GCC 13 (Debian 12, " +
                "Ubuntu 22.04) the GLIBCXX_3.4.32 requirement of libLibTorchSharp.so must be marked weak; Mtkd's build " +
                "targets do this in build and publish output (see DEVELOPERS.md). Underlying error: " + Innermost(error).Message,
                error);
    }

    private static Exception? TryLoad()
    {
        try
        {
            using var probe = torch.zeros(1);
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    private static Exception Innermost(Exception ex) => ex.InnerException is null ? ex : Innermost(ex.InnerException);
}
