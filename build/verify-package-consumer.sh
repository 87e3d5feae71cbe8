#!/usr/bin/env bash
# Packs Mtkd.Training, Mtkd.MLNet and the mtkd tool into a local feed and uses them as someone without this
# repository would: checks each package's metadata, builds, runs and publishes a console app that references
# Mtkd.MLNet from the feed plus the Linux x64 natives (it trains, exports and scores through ML.NET), and installs
# the tool into a folder (mtkd --version, then a --quick run). Prints what the app restored and the packages'
# sizes. A few minutes with a warm NuGet cache; run by TorchSharpNativeTests (and by hand: bash build/verify-package-consumer.sh).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
# Beside the repository's own build outputs (artifacts/ is ignored), not in /tmp: an app with libtorch is about 0.9 GiB
# each time it is built, published or installed, more than a small /tmp holds (CI ran out of space there once).
# Each copy is deleted once checked, so at most two exist at a time. MTKD_PACKAGE_CHECK_DIR puts it elsewhere.
parent="${MTKD_PACKAGE_CHECK_DIR:-$repo/artifacts}"
mkdir -p "$parent"
work="$(mktemp -d "$parent/package-check.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# Inside the repository's tree, MSBuild would apply its Directory.Build.* and central package versions to the app:
# empty ones here end that search, so the app builds as it would anywhere else.
for file in Directory.Build.props Directory.Build.targets; do echo '<Project />' > "$work/$file"; done
echo '<Project><PropertyGroup><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup></Project>' > "$work/Directory.Packages.props"
free_mib=$(( $(df -Pk "$work" | awk 'NR == 2 { print $4 }') / 1024 ))
[ "$free_mib" -ge 3072 ] || { echo "package check failed: it needs about 3 GiB free in $parent, which has $free_mib MiB (set MTKD_PACKAGE_CHECK_DIR to a larger disk)" >&2; exit 1; }
# A fresh version each run, so the NuGet cache never hands back an older build of our packages.
version="0.1.0-verify.$(date +%s)"
packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
fail() { echo "package check failed: $*" >&2; exit 1; }

dotnet pack "$repo/Mtkd.sln" -c Release -o "$work/feed" -p:Version="$version" --nologo -v q
for package in Mtkd.Training Mtkd.MLNet mtkd mtkd.linux-x64; do
  nupkg="$work/feed/$package.$version.nupkg"
  [ -f "$nupkg" ] || fail "$nupkg was not written (feed holds: $(ls "$work/feed" | tr '\n' ' '))"
  nuspec="$(unzip -p "$nupkg" '*.nuspec')"
  listing="$(unzip -l "$nupkg")" # held, not piped: grep -q closing the pipe early would fail the pipeline
  case $package in mtkd.linux-x64) grep -q "mtkd.pdb$" <<<"$listing" || fail "the tool package has no mtkd.pdb";; esac
  for field in '<license type="expression">MIT</license>' '<readme>README.md</readme>' '<repository type="git"' '<description>'; do
    grep -qF "$field" <<<"$nuspec" || fail "$package's nuspec lacks $field"
  done
  grep -q ' README.md$' <<<"$listing" || fail "$package has no README.md"
done
for package in Mtkd.Training Mtkd.MLNet; do
  [ -f "$work/feed/$package.$version.snupkg" ] || fail "$package has no symbol package"
  nuspec="$(unzip -p "$work/feed/$package.$version.nupkg" '*.nuspec')"
  if grep -qE 'id="(TorchSharp-cpu|libtorch-cpu|Microsoft\.ML\.OnnxRuntime)"' <<<"$nuspec"; then
    fail "$package depends on a native back end; the app chooses those"
  fi
done
echo "packages: $(cd "$work/feed" && ls -1 | tr '\n' ' ')"
echo "mtkd.linux-x64 tool package: $(stat -c %s "$work/feed/mtkd.linux-x64.$version.nupkg") bytes"

mkdir -p "$work/app"
cd "$work/app"
cat > app.csproj <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Mtkd.MLNet" Version="$version" />
    <!-- The native back ends, chosen by the app (README "Packages"). -->
    <PackageReference Include="libtorch-cpu-linux-x64" Version="2.10.0" />
    <PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.31.1" />
  </ItemGroup>
</Project>
XML
cat > nuget.config <<XML
<configuration><packageSources><add key="mtkd" value="$work/feed" /></packageSources></configuration>
XML
cat > Program.cs <<'CS'
using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet;
using Mtkd.MLNet.Data;
using Mtkd.Training.Data;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Engine;
var random = new Random(1); // synthetic noise images: this checks that TorchSharp and ONNX Runtime load and run, not learning
var data = new ImageDataset(Enumerable.Range(0, 64 * 784).Select(_ => (float)random.NextDouble()).ToArray(),
    Enumerable.Range(0, 64).Select(i => i % 10).ToArray(), 1, 28, 28, FashionMnist.ClassNames);
using var network = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 1);
var history = NetworkTrainer.TrainSupervised(network, data, new TrainerOptions { Epochs = 1 });
OnnxExporter.Export(network, "teacher.onnx");
var ml = new MLContext(seed: 1);
var scored = ml.Transforms.ScoreTeachers(["teacher.onnx"]).Fit(data.ToDataView(ml)).Transform(data.ToDataView(ml));
int rows = scored.GetColumn<float[]>("TeacherLogits").Count(r => r.Length == 10);
Console.WriteLine($"consumer trained one epoch, loss {history[0].MeanLoss:F3}, scored {rows} rows with ONNX Runtime");
CS

dotnet build --nologo | tee build.log | grep -E "Mtkd:|error" || true
grep -q "Build succeeded" build.log || fail "the consumer app did not build"
grep -qE "libtorch-cpu-(win|osx)" obj/project.assets.json && fail "the consumer restored a Windows or macOS libtorch"
restored=0
while read -r name version_; do
  size=$(du -sk "$packages/${name,,}/$version_" 2>/dev/null | cut -f1 || echo 0)
  restored=$((restored + size))
done < <(dotnet list package --include-transitive | awk '$1 == ">" { print $2, $NF }')
echo "consumer restored $((restored / 1024)) MiB of packages, no Windows or macOS libtorch"
dotnet run --no-build | grep "consumer trained" || fail "the consumer app did not run"
rm -rf bin obj/Debug
# For this machine's runtime only: the natives of other platforms are not copied (they are what filled /tmp).
dotnet publish -c Release -r linux-x64 --self-contained false -o "$work/published" --nologo | grep -E "Mtkd:|error" || true
"$work/published/app" | grep "consumer trained" || fail "the published consumer app did not run"
echo "published app: $(du -sm "$work/published" | cut -f1) MiB"
rm -rf "$work/published" bin obj

dotnet tool install --tool-path "$work/tool" --add-source "$work/feed" mtkd --version "$version" >/dev/null
echo "installed tool: $(du -sm "$work/tool" | cut -f1) MiB"
"$work/tool/mtkd" --version | grep -qF "$version" || fail "mtkd --version does not say $version"
"$work/tool/mtkd" teachers --quick --count 1 --epochs 1 --out "$work/tool-run" | tail -1
[ -f "$work/tool-run/teacher-0.onnx" ] || fail "the installed mtkd wrote no teacher"
echo "peak space used: about $(( $(du -sm "$work" | cut -f1) )) MiB at the end (feed and tool)"
echo "package consumer check passed ($version)"
