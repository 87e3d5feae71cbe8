using System.Text.Json;
using Mtkd.Cli;
using Mtkd.Training.Data;
using Mtkd.Training.Onnx;
using Mtkd.Training.SoftLabels;

namespace Mtkd.Cli.Tests.Commands;

/// <summary>
/// The command line on a user's own photographs (SYNTHETIC ones here): teachers, score, distill with an unlabelled
/// folder, and evaluate, each reading the same image folder through the cache.
/// </summary>
public sealed class ImageFolderCommandTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("mtkd-folder-cli-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private string PathOf(string name) => Path.Combine(root, name);

    [Fact]
    public void Teachers_score_distill_and_evaluate_run_end_to_end_on_an_image_folder()
    {
        string images = PathOf("photos"), unlabeled = PathOf("more"), cache = PathOf("cache");
        SyntheticImageFiles.WriteFolder(images, ["square-a", "square-b", "square-c"], perClass: 20);
        SyntheticImageFiles.WriteUnlabeled(unlabeled, count: 12, classes: 3);
        string[] common = ["--data", images, "--cache", cache];

        Assert.Equal(0, Program.Main(["teachers", .. common, "--image-size", "16x20", "--mean", "0.5,0.5,0.5", "--std", "0.25,0.25,0.25", "--count", "2", "--epochs", "2", "--batch-size", "16",
            "--patience", "0", "--out", PathOf("teachers")]));
        common = [.. common, "--mean", "0.5,0.5,0.5", "--std", "0.25,0.25,0.25"];
        string[] teachers = ["--teacher", PathOf("teachers/teacher-0.onnx"), "--teacher", PathOf("teachers/teacher-1.onnx")];
        var info = OnnxModelInfo.Read(PathOf("teachers/teacher-0.onnx"));
        Assert.Equal([null, 3, 16, 20], info.Inputs[0].Shape.Select(d => d is > 0 ? d : null));
        Assert.Equal("[\"square-a\",\"square-b\",\"square-c\"]", info.Metadata["class_names"]);
        Assert.Equal("fill", info.Metadata["resize"]);
        Assert.Equal("(pixel/255 - [0.5, 0.5, 0.5]) / [0.25, 0.25, 0.25]", info.Metadata["normalization"]);

        // The size comes from the teachers now; 48 training images (20 % of each class is the test split).
        Assert.Equal(0, Program.Main(["score", .. common, .. teachers, "--out", PathOf("soft.parquet")]));
        var soft = SoftLabelFile.Read(PathOf("soft.parquet"));
        Assert.Equal(48, soft.RowCount);
        Assert.Equal(["square-a", "square-b", "square-c"], soft.Header.ClassNames);
        // An unlabelled folder scores too, under the teachers' class names.
        Assert.Equal(0, Program.Main(["score", "--data", unlabeled, "--cache", cache, "--mean", "0.5,0.5,0.5", "--std", "0.25,0.25,0.25", .. teachers, "--out", PathOf("more.parquet")]));
        var more = SoftLabelFile.Read(PathOf("more.parquet"));
        Assert.Equal(12, more.RowCount);
        Assert.All(more.Labels, l => Assert.Equal(-1, l));

        Assert.Equal(0, Program.Main(["distill", .. common, .. teachers, "--unlabeled", unlabeled, "--epochs", "2", "--batch-size", "16",
            "--out", PathOf("student")]));
        var report = JsonDocument.Parse(File.ReadAllText(PathOf("student/report.json"))).RootElement;
        Assert.Equal(2, report.GetProperty("teachers").GetInt32());

        Assert.Equal(0, Program.Main(["evaluate", PathOf("student/student.onnx"), .. common, "--json", PathOf("evaluate.json")]));
        var evaluation = JsonDocument.Parse(File.ReadAllText(PathOf("evaluate.json"))).RootElement;
        Assert.Equal(12, evaluation.GetProperty("images").GetInt32());
        Assert.Equal(3, evaluation.GetProperty("classes").GetArrayLength());
    }

    [Fact]
    public void A_damaged_image_is_refused_by_name_unless_bad_images_are_skipped()
    {
        string images = PathOf("photos"), cache = PathOf("cache");
        SyntheticImageFiles.WriteFolder(images, ["a", "b"], perClass: 6);
        SyntheticImageFiles.WriteTruncated(Path.Combine(images, "b", "000-cut.png"));
        string[] teachers = ["teachers", "--data", images, "--cache", cache, "--image-size", "8", "--count", "1", "--epochs", "1", "--patience", "0"];
        var (refused, output) = CliOutput.Capture(() => Program.Main([.. teachers, "--out", PathOf("t1")]));
        var (skipped, said) = CliOutput.Capture(() => Program.Main([.. teachers, "--out", PathOf("t2"), "--skip-bad-images"]));
        Assert.NotEqual(0, refused);
        Assert.Contains("000-cut.png", output);
        Assert.Contains("--skip-bad-images", output);
        Assert.Contains("Left out 1", said);
        Assert.False(File.Exists(PathOf("t1/teacher-0.onnx")));
        Assert.Equal(0, skipped);
        Assert.True(File.Exists(PathOf("t2/teacher-0.onnx")));
    }

    [Fact]
    public void Image_data_without_a_size_or_labels_is_refused_with_what_to_give()
    {
        string images = PathOf("photos");
        SyntheticImageFiles.WriteFolder(images, ["a", "b"], perClass: 3);
        var (noSize, sizeMessage) = CliOutput.Capture(() => Program.Main(["teachers", "--data", images, "--cache", PathOf("cache"), "--out", PathOf("t")]));
        var (noLabels, labelMessage) = CliOutput.Capture(() => Program.Main(["teachers", "--data", Path.Combine(images, "a"), "--image-size", "8", "--cache", PathOf("cache"), "--out", PathOf("t")]));
        Assert.NotEqual(0, noSize);
        Assert.Contains("--image-size HxW", sizeMessage);
        Assert.NotEqual(0, noLabels);
        Assert.Contains("holds no labels", labelMessage);
    }
}
