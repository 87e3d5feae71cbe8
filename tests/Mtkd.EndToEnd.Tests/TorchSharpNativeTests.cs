using Mtkd.Build;
using Mtkd.Training;
using Mtkd.Training.Data;
using Mtkd.Training.Networks;
using Mtkd.Training.Engine;

namespace Mtkd.EndToEnd.Tests;

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

    [Trait("Category", "EndToEnd")]
    [Fact]
    public async Task ThePackagesWorkFromALocalFeedForAnAppAndAsAnInstalledTool()
    {
        // Packs the libraries and the tool, then builds, runs and publishes an app against them and installs the tool (about a minute).
        var (code, stdout, stderr) = await RunProcess("bash", [Path.Combine(SampleProcess.RepositoryRoot(), "build", "verify-package-consumer.sh")], TimeSpan.FromMinutes(10));
        Assert.True(code == 0, $"package check failed:\n{stdout}\n{stderr}");
        Assert.Contains("package consumer check passed", stdout);
        Assert.Equal(2, stdout.Split('\n').Count(line => line.StartsWith("consumer trained", StringComparison.Ordinal)));
        Assert.Contains("no Windows or macOS libtorch", stdout);
        Assert.Contains("installed tool:", stdout);
    }

    [Trait("Category", "EndToEnd")]
    [Fact]
    public async Task TheQuickstartScriptRunsInTheCloneAndOutsideItWhereTorchSharpLoadsAPatchedCachedCopy()
    {
        var repository = SampleProcess.RepositoryRoot();
        var script = Path.Combine(repository, "samples", "quickstart.cs");
        var work = Directory.CreateTempSubdirectory("mtkd-quickstart-").FullName;
        try
        {
            // As the README runs it: in the clone, where Mtkd's build targets bring the natives and patch the output.
            var inClone = await RunProcess("dotnet", ["run", script, "--", "--quick", "--out", Path.Combine(work, "in-clone")], TimeSpan.FromMinutes(10));
            AssertRan(inClone, Path.Combine(work, "in-clone"));

            // As a user's copy elsewhere: the natives as package directives and no Mtkd build targets, so nothing patches
            // TorchSharp at build time and the run-time fix must (on hosts whose libstdc++ lacks GLIBCXX_3.4.32).
            var copy = Path.Combine(work, "elsewhere", "quickstart.cs");
            Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
            File.WriteAllText(copy, File.ReadAllText(script)
                .Replace("#:project ../src/Mtkd.MLNet/Mtkd.MLNet.csproj",
                    $"#:project {Path.Combine(repository, "src", "Mtkd.MLNet", "Mtkd.MLNet.csproj")}\n#:package " +
                        $"libtorch-cpu-linux-x64@2.10.0\n#:package Microsoft.ML.OnnxRuntime@1.31.1", StringComparison.Ordinal));
            var outside = await RunProcess("dotnet", ["run", copy, "--", "--quick", "--out", Path.Combine(work, "outside")], TimeSpan.FromMinutes(10),
                ("MTKD_CACHE", Path.Combine(work, "cache")));
            AssertRan(outside, Path.Combine(work, "outside"));
            if (LibTorchSharpCompat.HostNeedsPatch(out _))
            {
                Assert.Contains("loading a patched copy of", outside.Stderr);
                var cached = Directory.GetFiles(Path.Combine(work, "cache", "native"), "libLibTorchSharp.so", SearchOption.AllDirectories).Single();
                Assert.True(ElfSymbolVersions.ReadRequirements(File.ReadAllBytes(cached), cached).Single(r => r.Version == LibTorchSharpCompat.Version).IsWeak);
                var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                    ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
                var original = Path.Combine(packages,
                    "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
                Assert.False(ElfSymbolVersions.ReadRequirements(File.ReadAllBytes(original), original).Single(r => r.Version == LibTorchSharpCompat.Version).IsWeak,
                    "the NuGet cache's copy must be left as shipped");
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static void AssertRan((int Code, string Stdout, string Stderr) run, string output)
    {
        Assert.True(run.Code == 0, $"quickstart failed:\n{run.Stdout}\n{run.Stderr}");
        foreach (var line in new[] { "ensemble of 3 teachers:", "distilled student:", "label-trained student:" })
            Assert.Matches($"{line} +\\d+\\.\\d\\d %", run.Stdout);
        var ml = new Microsoft.ML.MLContext();
        var student = ml.Model.Load(Path.Combine(output, "student.zip"), out var schema); // an ordinary ML.NET model
        Assert.NotNull(schema.GetColumnOrNull("Features"));
        Assert.NotNull(student.GetOutputSchema(schema).GetColumnOrNull("PredictedLabel"));
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunProcess(string program, string[] arguments, TimeSpan limit, params (string Name, string Value)[] environment)
    {
        var start = new System.Diagnostics.ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Let the nested builds find their own SDK settings rather than inherit the test host's MSBuild session.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBUILD_EXE_PATH", "MSBuildSDKsPath", "MSBuildLoadMicrosoftTargetsReadOnly" })
            start.Environment.Remove(name);
        foreach (var (name, value) in environment)
            start.Environment[name] = value;
        using var process = System.Diagnostics.Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = await process.StandardOutput.ReadToEndAsync();
        Assert.True(process.WaitForExit(limit), $"{program} did not finish in {limit.TotalMinutes} minutes");
        return (process.ExitCode, stdout, await stderr);
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
