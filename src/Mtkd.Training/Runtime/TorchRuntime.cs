using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Mtkd.Build;
using TorchSharp;

namespace Mtkd.Training;

/// <summary>
/// Loads TorchSharp's native back end once, turning a load failure into an explanation. On Linux hosts whose
/// libstdc++ lacks GLIBCXX_3.4.32 (Debian 12, Ubuntu 22.04), where no Mtkd build target patched the output (a script
/// runner, a notebook kernel loading from the NuGet cache), it loads a patched copy of libLibTorchSharp.so kept in
/// a per-user cache folder, never writing the original.
/// </summary>
internal static class TorchRuntime
{
    private const string BridgeFile = "libLibTorchSharp.so";
    private static readonly Lazy<Exception?> LoadError = new(TryLoad);

    /// <summary>Throws a clear error when libtorch or TorchSharp's native bridge cannot be loaded.</summary>
    public static void EnsureLoaded()
    {
        if (LoadError.Value is { } error)
            throw new InvalidOperationException(Explain(Innermost(error).Message), error);
    }

    private static string Explain(string underlying) =>
        underlying.Contains("doesn't contain a reference to libtorch", StringComparison.Ordinal)
            ? "TorchSharp's native libraries are not in this app: add the libtorch package for this platform, for Linux x64 " +
              "<PackageReference Include=\"libtorch-cpu-linux-x64\" Version=\"2.10.0\" /> (README \"Packages\"). Underlying error: " + underlying
            : "TorchSharp's native libraries failed to load. On Linux with a libstdc++ older than GCC 13 (Debian 12, " +
              "Ubuntu 22.04) the GLIBCXX_3.4.32 requirement of libLibTorchSharp.so must be marked weak; Mtkd's build " +
              "targets do this in build and publish output, and Mtkd does it in a cached copy at run time (see DEVELOPERS.md). " +
              "Underlying error: " + underlying;

    private static Exception? TryLoad()
    {
        // TorchSharp loads its bridge by name (NativeLibrary.TryLoad), which asks the load context when the default
        // probing fails, as it does for a bridge whose GLIBCXX requirement the host cannot meet.
        if (OperatingSystem.IsLinux())
            System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(typeof(torch).Assembly)!.ResolvingUnmanagedDll += ResolveBridge;
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

    // Called for each native library TorchSharp asks for; only the bridge with the unmet requirement is redirected.
    private static IntPtr ResolveBridge(Assembly assembly, string name)
    {
        if (name is not ("LibTorchSharp" or "libLibTorchSharp" or BridgeFile))
            return IntPtr.Zero;
        try
        {
            return PatchedBridge() is { } path ? NativeLibrary.Load(path) : IntPtr.Zero;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException or DllNotFoundException or BadImageFormatException)
        {
            Console.Error.WriteLine($"Mtkd: could not prepare a patched {BridgeFile} ({ex.Message}); loading TorchSharp as shipped.");
            return IntPtr.Zero;
        }
    }

    private static readonly Lazy<string?> PatchedBridgePath = new(MakePatchedBridge);

    private static string? PatchedBridge() => PatchedBridgePath.Value;

    private static string? MakePatchedBridge()
    {
        if (!LibTorchSharpCompat.HostNeedsPatch(out var host))
            return null;
        var original = SearchDirectories().Select(d => Path.Combine(d, BridgeFile)).FirstOrDefault(File.Exists);
        if (original is null)
            return null;
        var bytes = File.ReadAllBytes(original);
        var requirement = ElfSymbolVersions.ReadRequirements(bytes, original).FirstOrDefault(r => r.Version == LibTorchSharpCompat.Version);
        if (requirement is null || requirement.IsWeak)
            return null; // patched at build time already, or a build that does not ask for it

        // The bridge finds libtorch through $ORIGIN: the copy sits beside links to its siblings and to libtorch's
        // folder, so one cache folder serves one bridge from one place (another app gets its own).
        var libtorch = SearchDirectories().FirstOrDefault(d => File.Exists(Path.Combine(d, "libtorch.so")));
        string key = Convert.ToHexString(SHA256.HashData([.. bytes, .. System.Text.Encoding.UTF8.GetBytes($"{Path.GetFullPath(original)}|{libtorch}")]))[..16].ToLowerInvariant();
        string folder = Path.Combine(Data.ImageCache.DefaultRoot, "native", key);
        string patched = Path.Combine(folder, BridgeFile);
        if (!File.Exists(patched))
        {
            Directory.CreateDirectory(folder);
            string staging = Path.Combine(folder, $".{BridgeFile}.{Environment.ProcessId}.tmp");
            File.WriteAllBytes(staging, bytes);
            LibTorchSharpCompat.WeakenRequirement(staging);
            File.Move(staging, patched, overwrite: true);
        }
        foreach (var source in new[] { Path.GetDirectoryName(original)!, libtorch }.OfType<string>().Distinct())
            foreach (var file in Directory.EnumerateFiles(source, "*.so*"))
            {
                string link = Path.Combine(folder, Path.GetFileName(file));
                if (Path.GetFileName(file) != BridgeFile && !File.Exists(link))
                {
                    try
                    {
                        File.CreateSymbolicLink(link, file);
                    }
                    catch (IOException) when (File.Exists(link))
                    {
                        // another process made it first
                    }
                }
            }
        Console.Error.WriteLine($"Mtkd: {host} lacks {LibTorchSharpCompat.Version}; loading a patched copy of {original} from {folder} " +
                                "(the original is left as it is; see DEVELOPERS.md).");
        return patched;
    }

    // Where the host looks for native libraries: the app's folder and the NuGet cache folders of its deps.json.
    private static IEnumerable<string> SearchDirectories()
    {
        string baseDirectory = AppContext.BaseDirectory;
        yield return baseDirectory;
        yield return Path.Combine(baseDirectory, "runtimes", "linux-x64", "native");
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string directories)
            foreach (var directory in directories.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                yield return directory;
    }

    private static Exception Innermost(Exception ex) => ex.InnerException is null ? ex : Innermost(ex.InnerException);
}
