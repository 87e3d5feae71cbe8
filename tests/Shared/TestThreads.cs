using System.Runtime.CompilerServices;

namespace Mtkd.Tests;

/// <summary>
/// The four test projects run as four processes at once under `dotnet test`; on 2 cores, libtorch's default of one
/// thread per core in each of them oversubscribes the machine several times over (the fast filter took 1 min 43 s).
/// One libtorch thread per test process keeps the cores busy without contention. Numbers stay reproducible: every
/// comparison of two runs happens within one process.
/// </summary>
internal static class TestThreads
{
    [ModuleInitializer]
    internal static void OneTorchThreadPerProcess()
    {
        Mtkd.Training.TorchRuntime.EnsureLoaded();
        TorchSharp.torch.set_num_threads(1);
    }
}
