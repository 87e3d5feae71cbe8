using Mtkd.Samples.Images;
using SkiaSharp;

namespace Mtkd.EndToEnd.Tests.Samples;

/// <summary>Reading image-classification folders: layouts, splits, and bad files named and left out.</summary>
public sealed class ImageFolderTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("mtkd-image-folder-").FullName;
    private readonly ImageCheck check = new(height: 24, width: 32);

    public void Dispose() => Directory.Delete(root, recursive: true);

    private string Image(string relative, int width = 32, int height = 24, SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(SKColors.SteelBlue);
        using var image = SKImage.FromBitmap(bitmap);
        File.WriteAllBytes(path, image.Encode(format, 90).ToArray());
        return path;
    }

    [Fact]
    public void Class_folders_are_split_by_a_seeded_shuffle_within_each_class()
    {
        for (int i = 0; i < 20; i++) Image($"a/{i:D2}.png");
        for (int i = 0; i < 10; i++) Image($"b/{i:D2}.jpg", format: SKEncodedImageFormat.Jpeg);
        var splits = ImageFolder.Load(root, check, 0.2, seed: 3);
        Assert.Equal(["a", "b"], splits.Classes);
        Assert.False(splits.SplitsGiven);
        // 40 % of each class held out, half of that for validation and half for testing.
        Assert.Equal((12, 6), (splits.Train.Count(i => i.Label == "a"), splits.Train.Count(i => i.Label == "b")));
        Assert.Equal((4, 2), (splits.Validation.Count(i => i.Label == "a"), splits.Validation.Count(i => i.Label == "b")));
        Assert.Equal((4, 2), (splits.Test.Count(i => i.Label == "a"), splits.Test.Count(i => i.Label == "b")));
        Assert.Equal(30, splits.Train.Concat(splits.Validation).Concat(splits.Test).Select(i => i.Path).Distinct().Count());

        var again = ImageFolder.Load(root, check, 0.2, seed: 3);
        Assert.Equal(splits.Test, again.Test);
        Assert.NotEqual(splits.Test, ImageFolder.Load(root, check, 0.2, seed: 4).Test);
    }

    [Fact]
    public void Ignored_folders_such_as_an_output_folder_inside_the_image_folder_are_not_classes()
    {
        for (int i = 0; i < 5; i++) { Image($"a/{i}.png"); Image($"b/{i}.png"); }
        Image("out/synthetic/c/0.png");
        var taken = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(root, check, 0.2, seed: 1));
        Assert.Contains(Path.Combine(root, "out"), taken.Message);
        var splits = ImageFolder.Load(root, check, 0.2, seed: 1, ignore: [Path.Combine(root, "out") + Path.DirectorySeparatorChar]);
        Assert.Equal(["a", "b"], splits.Classes);
    }

    [Fact]
    public void Given_train_and_test_folders_are_used_and_validation_is_held_out_of_train_when_missing()
    {
        for (int i = 0; i < 10; i++) { Image($"train/x/{i}.png"); Image($"train/y/{i}.png"); }
        for (int i = 0; i < 3; i++) { Image($"test/x/{i}.png"); Image($"test/y/{i}.png"); }
        var splits = ImageFolder.Load(root, check, 0.2, seed: 1);
        Assert.True(splits.SplitsGiven);
        Assert.Equal(6, splits.Test.Count);
        Assert.Equal(4, splits.Validation.Count);
        Assert.Equal(16, splits.Train.Count);
        Assert.All(splits.Test, i => Assert.Contains($"{Path.DirectorySeparatorChar}test{Path.DirectorySeparatorChar}", i.Path));
    }

    [Fact]
    public void Unreadable_damaged_small_and_distorted_images_are_named_with_the_reason_and_left_out()
    {
        for (int i = 0; i < 5; i++) { Image($"a/{i}.png"); Image($"b/{i}.png"); }
        File.WriteAllText(Path.Combine(root, "a", "notes.txt"), "not an image");
        File.WriteAllText(Path.Combine(root, "a", "fake.png"), "not a png either");
        var good = File.ReadAllBytes(Image("b/damaged.png", 320, 240));
        File.WriteAllBytes(Path.Combine(root, "b", "damaged.png"), good[..(good.Length / 2)]);
        Image("b/tiny.png", 4, 3);
        Image("b/square.png", 32, 32);

        var splits = ImageFolder.Load(root, check, 0.2, seed: 1);
        var skipped = splits.Skipped.ToDictionary(s => Path.GetFileName(s.Path), s => s.Reason);
        Assert.Equal(["damaged.png", "fake.png", "notes.txt", "square.png", "tiny.png"], skipped.Keys.Order());
        Assert.Contains("not a .jpg", skipped["notes.txt"]);
        Assert.Contains("cannot be decoded", skipped["fake.png"]);
        Assert.Contains("damaged", skipped["damaged.png"]);
        Assert.Contains("4×3", skipped["tiny.png"]);
        Assert.Contains("aspect ratio 1.00", skipped["square.png"]);
        Assert.Equal(10, splits.Train.Count + splits.Validation.Count + splits.Test.Count);
    }

    [Fact]
    public void Layouts_that_cannot_be_read_are_refused_by_name()
    {
        Image("only/0.png");
        var one = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(root, check, 0.2, 1));
        Assert.Contains("1 class folder", one.Message);

        Directory.CreateDirectory(Path.Combine(root, "empty"));
        var empty = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(root, check, 0.2, 1));
        Assert.Contains($"{Path.DirectorySeparatorChar}empty' has no usable image", empty.Message);

        var missing = Assert.Throws<DirectoryNotFoundException>(() => ImageFolder.Load(Path.Combine(root, "nowhere"), check, 0.2, 1));
        Assert.Contains("nowhere", missing.Message);
    }

    [Fact]
    public void Every_given_split_needs_the_same_class_folders()
    {
        Image("train/x/0.png"); Image("train/y/0.png"); Image("train/x/1.png"); Image("train/y/1.png");
        Image("test/x/0.png");
        var e = Assert.Throws<InvalidDataException>(() => ImageFolder.Load(root, check, 0.2, 1));
        Assert.Contains("has no folder 'y'", e.Message);
    }
}
