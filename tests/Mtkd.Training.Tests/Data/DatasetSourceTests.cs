using Mtkd.Training.Data;

namespace Mtkd.Training.Tests.Data;

/// <summary>Every form of --data, resolved to splits, classes and files.</summary>
public sealed class DatasetSourceTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("mtkd-source-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void Folder_without_splits_names_classes_in_ordinal_order_and_holds_out_a_fixed_test_share_of_each()
    {
        var folder = Path.Combine(root, "photos");
        SyntheticImageFiles.WriteFolder(folder, ["rust", "Clean", "dent"], perClass: 10);
        File.WriteAllText(Path.Combine(folder, "rust", "notes.txt"), "not an image");
        var source = DatasetSource.Resolve(folder);

        Assert.IsType<ImageFileSource>(source);
        Assert.Equal(["Clean", "dent", "rust"], source.ClassNames); // ordinal: upper case first, the same on every machine
        Assert.False(source.SplitsGiven);
        var train = Files(source, "train");
        var test = Files(source, "test");
        Assert.Equal(24, train.Count);
        Assert.Equal(6, test.Count);
        Assert.All(Enumerable.Range(0, 3), c => Assert.Equal(2, test.Count(e => e.Label == c)));
        Assert.Empty(train.Select(e => e.Path).Intersect(test.Select(e => e.Path)));
        Assert.DoesNotContain(train, e => e.Path.EndsWith(".txt", StringComparison.Ordinal));
        Assert.All(train, e => Assert.Equal(source.ClassNames[e.Label], Path.GetFileName(Path.GetDirectoryName(e.Path))));

        var again = DatasetSource.Resolve(folder);
        Assert.Equal(test, Files(again, "test")); // the same split in every command
        Assert.False(source.HasSplit("val"));
    }

    [Fact]
    public void Split_folders_are_taken_as_given_and_must_share_the_class_folders()
    {
        SyntheticImageFiles.WriteFolder(Path.Combine(root, "train"), ["a", "b"], perClass: 4);
        SyntheticImageFiles.WriteFolder(Path.Combine(root, "val"), ["a", "b"], perClass: 2);
        SyntheticImageFiles.WriteFolder(Path.Combine(root, "test"), ["a", "b"], perClass: 3);
        var source = DatasetSource.Resolve(root);
        Assert.True(source.SplitsGiven);
        Assert.Equal((8, 4, 6), (Files(source, "train").Count, Files(source, "val").Count, Files(source, "test").Count));
        Assert.All(Files(source, "test"), e => Assert.StartsWith(Path.Combine(root, "test"), e.Path));

        Directory.Delete(Path.Combine(root, "test", "b"), recursive: true);
        var e = Assert.Throws<InvalidDataException>(() => DatasetSource.Resolve(root));
        Assert.Contains("'b'", e.Message);
        Assert.Contains(Path.Combine(root, "test"), e.Message);
    }

    [Fact]
    public void A_folder_of_images_alone_is_unlabelled()
    {
        SyntheticImageFiles.WriteUnlabeled(root, count: 5, classes: 2);
        var source = DatasetSource.Resolve(root);
        Assert.False(source.HasLabels);
        Assert.Empty(source.ClassNames);
        Assert.Equal(5, Files(source, "train").Count);
        Assert.All(Files(source, "train"), e => Assert.Equal(ImageDataset.Unlabeled, e.Label));
    }

    [Fact]
    public void Manifest_paths_are_relative_to_it_and_an_empty_label_is_unlabelled()
    {
        SyntheticImageFiles.WriteFolder(Path.Combine(root, "img"), ["x", "y"], perClass: 5);
        var lines = new List<string> { "path,label" };
        for (int i = 0; i < 5; i++)
        {
            lines.Add($"img/x/img-{i:D3}.png,cat");
            lines.Add($"img/y/img-{i:D3}.png,{(i < 3 ? "dog" : "")}");
        }
        var manifest = Path.Combine(root, "list.csv");
        File.WriteAllLines(manifest, lines);
        var source = DatasetSource.Resolve(manifest);
        Assert.True(source is ImageFileSource { HasLabels: true });
        Assert.Equal(["cat", "dog"], source.ClassNames);
        var all = Files(source, "train").Concat(Files(source, "test")).ToArray();
        Assert.Equal(10, all.Length);
        Assert.Equal(2, all.Count(e => e.Label == ImageDataset.Unlabeled));
        Assert.DoesNotContain(Files(source, "test"), e => e.Label == ImageDataset.Unlabeled); // unlabelled images all train
        Assert.All(all, e => Assert.True(File.Exists(e.Path)));

        // TSV with a split column; a missing file is named with its line.
        File.WriteAllLines(Path.Combine(root, "list.tsv"), ["path\tlabel\tsplit", "img/x/img-000.png\tcat\ttrain", "img/y/img-000.png\tdog\ttest", "img/y/img-001.png\tdog\ttrain"]);
        var tsv = DatasetSource.Resolve(Path.Combine(root, "list.tsv"));
        Assert.True(tsv.SplitsGiven);
        Assert.Equal((2, 1), (Files(tsv, "train").Count, Files(tsv, "test").Count));
        File.AppendAllLines(manifest, ["img/x/missing.png,cat"]);
        var e = Assert.Throws<FileNotFoundException>(() => DatasetSource.Resolve(manifest));
        Assert.Contains("line 12", e.Message);
        Assert.Contains("missing.png", e.Message);
    }

    [Fact]
    public void Idx_folders_and_bad_values_are_told_apart()
    {
        if (Directory.Exists(FashionMnist.DefaultDirectory))
        {
            var fmnist = DatasetSource.Resolve("fashion-mnist");
            Assert.IsType<IdxSource>(fmnist);
            Assert.Equal(FashionMnist.ClassNames, fmnist.ClassNames);
            Assert.EndsWith("train-images-idx3-ubyte.gz", ((IdxSource)fmnist).IdxFiles("train").Images);
            Assert.True(fmnist.HasSplit("test"));
            Assert.False(fmnist.HasSplit("val"));
        }
        Assert.Throws<DirectoryNotFoundException>(() => DatasetSource.Resolve(Path.Combine(root, "nope")));
        File.WriteAllText(Path.Combine(root, "model.onnx"), "x");
        Assert.Contains("manifest", Assert.Throws<ArgumentException>(() => DatasetSource.Resolve(Path.Combine(root, "model.onnx"))).Message);
        Directory.CreateDirectory(Path.Combine(root, "only"));
        SyntheticImageFiles.WritePng(Path.Combine(root, "only", "one", "a.png"), 8, 8, 0, 1);
        Assert.Contains("at least two", Assert.Throws<InvalidDataException>(() => DatasetSource.Resolve(Path.Combine(root, "only"))).Message);
    }

    [Fact]
    public void A_class_folder_only_the_test_split_has_is_refused_not_dropped()
    {
        var root = Directory.CreateTempSubdirectory("mtkd-split-classes-").FullName;
        try
        {
            foreach (var folder in new[] { "train/cat", "train/dog", "test/cat", "test/dog", "test/zebra" })
            {
                Directory.CreateDirectory(Path.Combine(root, folder));
                File.WriteAllBytes(Path.Combine(root, folder, "0.png"), [0]);
            }
            var e = Assert.Throws<InvalidDataException>(() => DatasetSource.Resolve(root));
            Assert.Contains("class folder 'zebra'", e.Message);
            Assert.Contains(Path.Combine(root, "test"), e.Message);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Manifests_are_read_as_rfc_4180_and_must_be_utf_8()
    {
        var root = Directory.CreateTempSubdirectory("mtkd-manifest-csv-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "cat"));
            foreach (var name in new[] { "a,b \"q\".png", "plain.png", "dog.png", "dog2.png" })
                File.WriteAllBytes(Path.Combine(root, "cat", name), [0]);
            var manifest = Path.Combine(root, "images.csv");
            File.WriteAllText(manifest, "path,label\n\"cat/a,b \"\"q\"\".png\",cat\r\ncat/plain.png,cat\ncat/dog.png,\"d\"\"og\"\ncat/dog2.png,\"d\"\"og\"\n");
            var source = DatasetSource.Resolve(manifest);
            Assert.Equal(["cat", "d\"og"], source.ClassNames);
            var files = Files(source, "train").Concat(Files(source, "test")).Select(f => Path.GetFileName(f.Path)).Order().ToArray();
            Assert.Equal(["a,b \"q\".png", "dog.png", "dog2.png", "plain.png"], files);

            File.WriteAllBytes(manifest, [.. "path,label\ncat/plain.png,cat\ncat/dog.png,ch"u8.ToArray(), 0xE9, .. "vre\n"u8.ToArray()]); // Latin-1 "chèvre"
            var latin1 = Assert.Throws<InvalidDataException>(() => DatasetSource.Resolve(manifest));
            Assert.Contains("line 3: not UTF-8", latin1.Message);

            File.WriteAllText(manifest, "path,label\n\"cat/plain.png,cat\n");
            Assert.Contains("line 2: a quoted field is not closed", Assert.Throws<InvalidDataException>(() => DatasetSource.Resolve(manifest)).Message);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static IReadOnlyList<ImageEntry> Files(DatasetSource source, string split) => ((ImageFileSource)source).Files(split);
}
