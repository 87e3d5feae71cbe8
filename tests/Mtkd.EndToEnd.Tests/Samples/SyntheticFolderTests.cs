using Mtkd.Samples.Images;
using Mtkd.Samples.Smoke;

namespace Mtkd.EndToEnd.Tests.Samples;

public sealed class SyntheticFolderTests : IDisposable
{
    private readonly string output = Directory.CreateTempSubdirectory("mtkd-synthetic-folder-").FullName;

    public void Dispose() => Directory.Delete(output, recursive: true);

    private static readonly SampleDefinition Sample = new()
    {
        Name = "smoke", Title = "test", NegativeClass = "no_smoke", PositiveClass = "smoke", Height = 180, Width = 320,
        Threshold = r => new ThresholdPolicy.RecallFirst(r), Synthetic = new SyntheticSmoke(),
    };

    [Fact]
    public void A_folder_is_drawn_once_labelled_synthetic_reused_while_its_manifest_matches_and_redrawn_for_another_seed()
    {
        var root = Path.Combine(output, "synthetic");
        Assert.Equal(root, SyntheticFolder.Ensure(root, Sample, perClass: 3, seed: 1));
        Assert.StartsWith("SYNTHETIC IMAGES", File.ReadAllText(Path.Combine(root, "SYNTHETIC.txt")));
        Assert.Equal(3, Directory.GetFiles(Path.Combine(root, "smoke")).Length);
        Assert.All(Directory.GetFiles(root, "*.jpg", SearchOption.AllDirectories), f => Assert.StartsWith("synthetic-", Path.GetFileName(f)));

        var marker = Path.Combine(root, "smoke", "kept.txt");
        File.WriteAllText(marker, "");
        SyntheticFolder.Ensure(root, Sample, perClass: 3, seed: 1);
        Assert.True(File.Exists(marker), "a matching folder is reused as it is");

        SyntheticFolder.Ensure(root, Sample, perClass: 3, seed: 2);
        Assert.False(File.Exists(marker), "another seed draws the folder again");
        Assert.Contains("seed 2", File.ReadAllText(Path.Combine(root, "SYNTHETIC.txt")));
        Assert.False(Directory.Exists(root + ".drawing"));
    }

    [Fact]
    public void A_folder_the_sample_did_not_draw_is_never_replaced()
    {
        var root = Directory.CreateDirectory(Path.Combine(output, "synthetic")).FullName;
        File.WriteAllText(Path.Combine(root, "mine.txt"), "keep me");
        var ex = Assert.Throws<IOException>(() => SyntheticFolder.Ensure(root, Sample, perClass: 2, seed: 1));
        Assert.Contains(root, ex.Message);
        Assert.True(File.Exists(Path.Combine(root, "mine.txt")));
    }
}
