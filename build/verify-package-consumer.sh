#!/usr/bin/env bash
# Checks that a project referencing the Mtkd *package* (not this repository) loads TorchSharp on this machine
# after `dotnet build`, `dotnet run` and `dotnet publish`, with no manual step: the buildTransitive targets
# shipped in Mtkd.Training must patch its output. Takes about a minute with a warm NuGet cache.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A fresh version each run, so the NuGet cache never hands back an older build of our packages.
version="0.1.0-verify.$(date +%s)"

for project in Mtkd.Training Mtkd.MLNet; do
  dotnet pack "$repo/src/$project" -c Release -o "$work/feed" -p:Version="$version" --nologo -v q
done

mkdir -p "$work/app"
cd "$work/app"
cat > app.csproj <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
  <ItemGroup><PackageReference Include="Mtkd.MLNet" Version="$version" /></ItemGroup>
</Project>
XML
cat > nuget.config <<XML
<configuration><packageSources><add key="mtkd" value="$work/feed" /></packageSources></configuration>
XML
cat > Program.cs <<'CS'
using Mtkd.Training.Data;
using Mtkd.Training.Networks;
using Mtkd.Training.Training;
var random = new Random(1); // synthetic noise images: this checks that TorchSharp loads and trains, not learning
var data = new ImageDataset(Enumerable.Range(0, 64 * 784).Select(_ => (float)random.NextDouble()).ToArray(),
    Enumerable.Range(0, 64).Select(i => i % 10).ToArray(), 1, 28, 28, FashionMnist.ClassNames);
using var network = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 1);
var history = NetworkTrainer.TrainSupervised(network, data, new TrainerOptions { Epochs = 1 });
Console.WriteLine($"consumer trained one epoch, loss {history[0].MeanLoss:F3}");
CS

dotnet build --nologo | tee build.log | grep -E "Mtkd:|error" || true
grep -q "Build succeeded" build.log
dotnet run --no-build | grep "consumer trained"
dotnet publish -c Release -o "$work/published" --nologo | grep -E "Mtkd:|error" || true
"$work/published/app" | grep "consumer trained"
echo "package consumer check passed ($version)"
