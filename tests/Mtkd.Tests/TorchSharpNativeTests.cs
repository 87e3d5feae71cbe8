using Mtkd.Build;
using Mtkd.Training;
using Mtkd.Training.Data;
using Mtkd.Training.Networks;
using Mtkd.Training.Training;

namespace Mtkd.Tests;

public sealed class TorchSharpNativeTests
{
    private static string PackagedLibrary()
    {
        var version = typeof(TorchSharp.torch).Assembly.GetName().Version!.ToString(3);
        var root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(root, "torchsharp", version, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    private static string OutputLibrary() =>
        Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    private static ElfVersionRequirement Requirement(string path) =>
        ElfSymbolVersions.ReadRequirements(File.ReadAllBytes(path), path).Single(r => r.Version == LibTorchSharpCompat.Version);

    [Fact]
    public void TorchSharpLoadsAndRunsATrainingStep()
    {
        TorchRuntime.EnsureLoaded();
        var random = new Random(1);
        var data = new ImageDataset( // synthetic noise images: this checks the native stack runs, not learning
            Enumerable.Range(0, 32 * 784).Select(_ => (float)random.NextDouble()).ToArray(),
            Enumerable.Range(0, 32).Select(i => i % 10).ToArray(), 1, 28, 28, FashionMnist.ClassNames);
        using var network = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 1);
        var before = network.parameters().First().data<float>().ToArray();

        var history = NetworkTrainer.TrainSupervised(network, data, new TrainerOptions { Epochs = 1, BatchSize = 32 });

        Assert.True(double.IsFinite(history.Single().MeanLoss));
        Assert.NotEqual(before, network.parameters().First().data<float>().ToArray());
    }

    [Fact]
    public void BuildOutputIsPatchedExactlyWhenTheHostNeedsIt()
    {
        bool needed = LibTorchSharpCompat.HostNeedsPatch(out var host);

        Assert.Equal(needed, Requirement(OutputLibrary()).IsWeak);
        Assert.False(Requirement(PackagedLibrary()).IsWeak); // the NuGet cache is never written
        Assert.False(string.IsNullOrEmpty(host));
    }

    [Fact]
    public void WeakeningChangesOnlyThatRequirementAndIsIdempotent()
    {
        var copy = Path.Combine(Directory.CreateTempSubdirectory("mtkd-elf-").FullName, "libLibTorchSharp.so");
        File.Copy(PackagedLibrary(), copy);
        var original = File.ReadAllBytes(copy);
        var before = ElfSymbolVersions.ReadRequirements(original, copy);

        var message = LibTorchSharpCompat.WeakenRequirement(copy);
        var patched = File.ReadAllBytes(copy);
        var after = ElfSymbolVersions.ReadRequirements(patched, copy);

        Assert.NotNull(message);
        Assert.Equal(before.Count, after.Count);
        for (int i = 0; i < before.Count; i++)
        {
            Assert.Equal(before[i].Version, after[i].Version);
            bool target = before[i].Version == LibTorchSharpCompat.Version;
            Assert.Equal(target ? (ushort)(before[i].Flags | ElfSymbolVersions.VerFlagWeak) : before[i].Flags, after[i].Flags);
        }
        Assert.Equal(1, original.Zip(patched).Count(p => p.First != p.Second)); // one byte: vna_flags
        Assert.Null(LibTorchSharpCompat.WeakenRequirement(copy));
        Assert.Equal(patched, File.ReadAllBytes(copy));
    }

    [Fact]
    public void OnlyTheKnownBenignSymbolUsesThatVersion()
    {
        var path = PackagedLibrary();
        var bytes = File.ReadAllBytes(path);
        var requirement = Requirement(path);

        Assert.Equal([LibTorchSharpCompat.OnlySymbol], ElfSymbolVersions.SymbolsUsingVersion(bytes, path, requirement.Index));
    }

    [Fact]
    public async Task AProjectReferencingThePackageLoadsTorchSharpAfterBuildRunAndPublish()
    {
        // Packs Mtkd.Training and Mtkd.MLNet, then builds, runs and publishes a consumer app against them (~30 s).
        var repository = SampleProcess.RepositoryRoot();
        var start = new System.Diagnostics.ProcessStartInfo("bash", [Path.Combine(repository, "build", "verify-package-consumer.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Let the nested builds find their own SDK settings rather than inherit the test host's MSBuild session.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBUILD_EXE_PATH", "MSBuildSDKsPath", "MSBuildLoadMicrosoftTargetsReadOnly" })
            start.Environment.Remove(name);
        using var process = System.Diagnostics.Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(5)), "the consumer check did not finish in 5 minutes");

        Assert.True(process.ExitCode == 0, $"consumer check failed:\n{stdout}\n{await stderr}");
        Assert.Contains("package consumer check passed", stdout);
        Assert.Equal(2, stdout.Split('\n').Count(line => line.StartsWith("consumer trained", StringComparison.Ordinal)));
    }

    [Fact]
    public void NonElfInputIsRefusedWithItsName()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("mtkd-elf-").FullName, "fake.so");
        File.WriteAllText(path, "not an ELF file at all, but long enough to have a header's worth of bytes in it...");

        var error = Assert.Throws<InvalidDataException>(() => LibTorchSharpCompat.WeakenRequirement(path));

        Assert.Contains(path, error.Message);
    }
}
