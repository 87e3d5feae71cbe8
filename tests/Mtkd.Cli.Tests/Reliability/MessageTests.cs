using Mtkd.Cli;
using Mtkd.Training.SoftLabels;

namespace Mtkd.Cli.Tests.Reliability;

/// <summary>Bad inputs that used to get messages naming nothing or misleading (issue 16, fault 5) now name the file and what was expected against what was found.</summary>
public sealed class MessageTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-messages-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string PathOf(string name) => Path.Combine(directory, name);

    private string Save(Google.Protobuf.IMessage model, string name)
    {
        File.WriteAllBytes(PathOf(name), Google.Protobuf.MessageExtensions.ToByteArray(model));
        return PathOf(name);
    }

    [Fact]
    public void A_teacher_of_the_wrong_size_classes_or_kind_is_named_with_what_was_expected_and_exits_1_as_every_mismatch_between_files()
    {
        var (folder, folderMessage) = CliOutput.Capture(() => Program.Main(["score", "--teacher", directory, "--out", PathOf("a.parquet")]));
        Assert.Equal(1, folder); // as `mtkd inspect FOLDER`: a file that is not there
        Assert.Contains("is a folder; give the ONNX file itself", folderMessage);
        Assert.Equal(1, CliOutput.Capture(() => Program.Main(["inspect", directory])).Code);

        var small = Save(TeacherVariants.Base(channels: 3, size: 8, classes: 10), "small.onnx");
        var (size, sizeMessage) = CliOutput.Capture(() => Program.Main(["score", "--teacher", small, "--out", PathOf("b.parquet")]));
        Assert.Equal(1, size);
        Assert.Contains("Teacher '" + small + "' takes images of 3×8×8 (192 values); the data's images are 1×28×28 (784 values)", sizeMessage);
        Assert.Equal(1, CliOutput.Capture(() => Program.Main(["evaluate", small])).Code);

        var seven = Save(TeacherVariants.Base(channels: 1, size: 28, classes: 7), "seven.onnx");
        var (classes, classMessage) = CliOutput.Capture(() => Program.Main(["distill", "--teacher", seven, "--quick", "--epochs", "1", "--out", PathOf("student")]));
        Assert.Equal(1, classes);
        Assert.Contains("gives 7 scores per image (output 'logits'); the data has 10 classes (T-shirt/top, Trouser", classMessage);

        // One output against ten classes: the file and what it gives, no internal column names.
        var one = Save(TeacherVariants.Base(channels: 1, size: 28, classes: 1), "one-output.onnx");
        var (single, singleMessage) = CliOutput.Capture(() => Program.Main(["score", "--teacher", one, "--out", PathOf("one.parquet")]));
        Assert.Equal(1, single);
        Assert.Contains("Teacher '" + one + "' gives 1 score per image", singleMessage);
        Assert.Contains("a single sigmoid output is a two-class classifier, not a 10-class one", singleMessage);
        Assert.DoesNotContain("TeacherLogits", singleMessage);

        // Teachers that disagree with each other: the same exit code.
        Assert.Equal(1, CliOutput.Capture(() => Program.Main(["score", "--teacher", seven, "--teacher", Save(TeacherVariants.Base(channels: 1, size: 28, classes: 10), "ten.onnx"),
            "--out", PathOf("c.parquet")])).Code);
    }

    [Fact]
    public void A_teacher_declaring_an_absurd_input_or_an_image_size_that_is_not_fixed_is_named()
    {
        var huge = TeacherVariants.Base(channels: 3, size: 8, classes: 10, anySize: true);
        foreach (int d in new[] { 2, 3 }) huge.Graph.Input[0].Type.TensorType.Shape.Dim[d].DimValue = 50_000;
        var (code, said) = CliOutput.Capture(() => Program.Main(["score", "--teacher", Save(huge, "huge.onnx"), "--out", PathOf("h.parquet")]));
        Assert.Equal(1, code);
        Assert.Contains("huge.onnx", said);
        Assert.Contains("declares an input of 3×50000×50000 = 7,500,000,000 values per image", said); // not an overflowed negative count

        var dynamic = TeacherVariants.Base(channels: 3, size: 8, classes: 2, anySize: true);
        foreach (int d in new[] { 2, 3 }) dynamic.Graph.Input[0].Type.TensorType.Shape.Dim[d] = new Mtkd.Training.Onnx.Proto.TensorShapeProto.Types.Dimension { DimParam = d == 2 ? "height" : "width" };
        SyntheticImageFiles.WriteFolder(PathOf("images"), ["a", "b"], perClass: 2);
        var (dynamicCode, dynamicSaid) = CliOutput.Capture(() => Program.Main(["score", "--data", PathOf("images"), "--teacher", Save(dynamic, "dynamic.onnx"), "--out", PathOf("d.parquet")]));
        Assert.Equal(2, dynamicCode); // the command line lacks --image-size
        Assert.Contains($"teacher '{PathOf("dynamic.onnx")}' takes [?, 3, ?, ?], whose image size is not fixed", dynamicSaid);
    }

    [Fact]
    public void A_decoding_flag_that_data_of_a_fixed_size_cannot_honour_is_refused()
    {
        var (channels, said) = CliOutput.Capture(() => Program.Main(["teachers", "--data", "fashion-mnist", "--channels", "2", "--quick", "--out", PathOf("t")]));
        Assert.Equal(2, channels);
        Assert.Contains("--channels 2: fashion-mnist images are 1x28x28", said);
        var (size, sizeSaid) = CliOutput.Capture(() => Program.Main(["teachers", "--image-size", "32x32", "--quick", "--out", PathOf("t")]));
        Assert.Equal(2, size);
        Assert.Contains("--image-size 32x32", sizeSaid);
    }

    [Fact]
    public void Settings_out_of_range_say_the_setting_and_value_without_dotnet_wording_and_absurd_sizes_say_what_fits()
    {
        var (lr, said) = CliOutput.Capture(() => Program.Main(["distill", "--method", "labels", "--quick", "--lr", "0", "--out", PathOf("lr")]));
        Assert.Equal(2, lr);
        Assert.Contains("Learning rate must be positive (LearningRate: 0).", said);
        Assert.DoesNotContain("(Parameter '", said);
        Assert.DoesNotContain("Actual value was", said);

        var teacher = Save(TeacherVariants.Base(channels: 1, size: 28, classes: 10), "teacher.onnx");
        var (batch, batchSaid) = CliOutput.Capture(() => Program.Main(["score", "--teacher", teacher, "--batch-size", "1000000000", "--out", PathOf("s.parquet")]));
        Assert.Equal(2, batch);
        Assert.Matches(@"at most about [\d,]+ images fit in a block", batchSaid);

        var (width, widthSaid) = CliOutput.Capture(() => Program.Main(["distill", "--method", "labels", "--quick", "--width", "100000", "--out", PathOf("w")]));
        Assert.Equal(2, width);
        Assert.Contains("choose a smaller width", widthSaid);
    }

    [Fact]
    public void A_parquet_file_named_csv_and_a_cache_that_is_a_file_are_named_plainly()
    {
        File.WriteAllBytes(PathOf("labels.csv"), [.. "PAR1"u8.ToArray(), 0, 1, 2, 255]);
        var (parquet, parquetSaid) = CliOutput.Capture(() => Program.Main(["distill", "--soft-labels", PathOf("labels.csv"), "--quick", "--out", PathOf("p")]));
        Assert.Equal(1, parquet);
        Assert.Contains("is a Parquet file (it starts with PAR1)", parquetSaid);

        File.WriteAllText(PathOf("cache-file"), "");
        var (cache, cacheSaid) = CliOutput.Capture(() => Program.Main(["teachers", "--cache", PathOf("cache-file"), "--quick", "--out", PathOf("c")]));
        Assert.Equal(2, cache);
        Assert.Contains("is a file; expected a folder", cacheSaid);
    }

    [Fact]
    public void A_bad_split_names_the_flag_and_a_bad_soft_label_index_names_its_row()
    {
        var teacher = Save(TeacherVariants.Base(channels: 1, size: 28, classes: 10), "teacher.onnx");
        var (split, splitSaid) = CliOutput.Capture(() => Program.Main(["score", "--teacher", teacher, "--split", "holdout", "--out", PathOf("s.parquet")]));
        Assert.Equal(2, split);
        Assert.Contains("--split 'holdout': expected train, val or test.", splitSaid);

        var values = string.Join(",", Enumerable.Repeat("0.1", 10));
        File.WriteAllText(PathOf("negative.csv"), $"index,label,{string.Join(",", Enumerable.Range(0, 10).Select(c => $"t0_c{c}"))}\n0,0,{values}\n-5,0,{values}\n");
        var (index, indexSaid) = CliOutput.Capture(() => Program.Main(["distill", "--soft-labels", PathOf("negative.csv"), "--quick", "--out", PathOf("n")]));
        Assert.Equal(1, index);
        Assert.Contains("row 2: index -5 cannot be a row of the training split", indexSaid);
    }

    [Fact]
    public void A_teacher_that_gives_no_image_size_is_named()
    {
        SyntheticImageFiles.WriteFolder(PathOf("images"), ["a", "b"], perClass: 2);
        Directory.CreateDirectory(PathOf("models"));
        var (code, said) = CliOutput.Capture(() => Program.Main(["score", "--data", PathOf("images"), "--teacher", PathOf("models"), "--out", PathOf("x.parquet")]));
        Assert.NotEqual(0, code);
        Assert.Contains($"teacher '{PathOf("models")}' is a folder, not an ONNX file", said);
    }

    [Fact]
    public void Damaged_soft_label_files_are_named()
    {
        File.WriteAllText(PathOf("header.csv"), "index,label,t0_c0,t0_c1\n");
        Assert.Contains("has a header and no rows", Assert.Throws<InvalidDataException>(() => SoftLabelFile.Read(PathOf("header.csv"))).Message);

        // A Parquet file whose pages were overwritten (its footer intact): Parquet.Net alone says "Invalid copy offset" or the like.
        var random = new Random(3);
        var set = new SoftLabelSet(new SoftLabelHeader(2, 10, ["a.onnx", "b.onnx"]), Enumerable.Range(0, 5000).Select(i => (long)i).ToArray(),
            Enumerable.Range(0, 5000).Select(i => i % 10).ToArray(), Enumerable.Range(0, 5000 * 20).Select(_ => (float)random.NextDouble()).ToArray());
        SoftLabelWriter.Write(PathOf("garbled.parquet"), set);
        var bytes = File.ReadAllBytes(PathOf("garbled.parquet"));
        random.NextBytes(bytes.AsSpan(bytes.Length / 4, bytes.Length / 2));
        File.WriteAllBytes(PathOf("garbled.parquet"), bytes);
        var garbled = Assert.Throws<InvalidDataException>(() => SoftLabelFile.Read(PathOf("garbled.parquet")));
        Assert.Contains(PathOf("garbled.parquet"), garbled.Message);
        Assert.Contains("is damaged", garbled.Message);
    }

    [Fact]
    public void A_soft_label_file_with_one_index_twice_is_refused_naming_both_rows()
    {
        File.WriteAllText(PathOf("twice.csv"), "index,label,t0_c0,t0_c1\n7,1,0.5,1\n8,0,0.5,1\n7,0,0.5,1\n");
        var e = Assert.Throws<InvalidDataException>(() => SoftLabelFile.Read(PathOf("twice.csv")));
        Assert.Contains("index 7 appears twice (data rows 1 and 3)", e.Message);
    }

    public static TheoryData<string[], string> FlagsThatNameNothingUseful() => new()
    {
        { ["teachers", "--quick", "--count", "-1", "--out", "OUT"], "--count -1: expected one or more teachers" },
        { ["distill", "--teacher", "TEACHER", "--quick", "--patience", "-1", "--out", "OUT"], "--patience -1: expected 0 (off)" },
        { ["distill", "--teacher", "TEACHER", "--quick", "--unlabeled", "ABSENT", "--out", "OUT"], "--unlabeled ABSENT: no such folder or file" },
        { ["inspect", "FOLDER"], "FOLDER is a folder; give the ONNX model file itself" },
        { ["teachers", "--quick", "--method", "boosting", "--out", "OUT"], "--method 'boosting': expected seeds, bagging, cross-fit, snapshot or specialists" },
        { ["teachers", "--quick", "--groups", "0-4;5-9", "--out", "OUT"], "--groups is for --method specialists" },
        { ["teachers", "--quick", "--method", "specialists", "--groups", "0-4;5-12", "--out", "OUT"], "Specialist group '5-12': class 10 is not one of the data's classes 0 to 9" },
        { ["teachers", "--quick", "--method", "specialists", "--count", "2", "--out", "OUT"], "2 specialists of 10 classes would each know all of them" },
        { ["teachers", "--quick", "--method", "specialists", "--groups", "0-4;3-8", "--out", "OUT"], "No specialist covers class 9 (Ankle boot) of 10" },
        { ["teachers", "--quick", "--method", "cross-fit", "--folds", "1", "--out", "OUT"], "--folds 1: cross-fitting needs two or more folds" },
        { ["teachers", "--quick", "--folds", "3", "--out", "OUT"], "--folds is for --method cross-fit" },
        { ["teachers", "--quick", "--fraction", "0.5", "--out", "OUT"], "--fraction is for --method bagging; --method seeds trains every teacher on all the training images" },
        { ["distill", "--teacher", "TEACHER", "--quick", "--sweep-alpha", "0.3,x", "--out", "OUT"], "--sweep-alpha '0.3,x': 'x' is not a number" },
        { ["distill", "--teacher", "TEACHER", "--quick", "--sweep-temperature", "1,0", "--out", "OUT"], "--sweep-temperature 0: expected positive temperatures" },
        { ["distill", "--teacher", "TEACHER", "--quick", "--sweep-alpha", "0.5,1.5", "--out", "OUT"], "--sweep-alpha 1.5: expected weights in [0, 1]" },
        { ["demo", "--labels", "-5"], "--labels -5: expected a positive number of labelled images, or 0 for all" },
        { ["demo", "--alpha", "2"], "--alpha 2: expected a weight in [0, 1]" },
    };

    [Theory]
    [MemberData(nameof(FlagsThatNameNothingUseful))]
    public void A_bad_flag_value_is_refused_naming_the_flag_as_given(string[] arguments, string expected)
    {
        var teacher = Save(TeacherVariants.Base(channels: 1, size: 28, classes: 10), "teacher.onnx");
        string Fill(string text) => text.Replace("TEACHER", teacher, StringComparison.Ordinal).Replace("OUT", PathOf("out"), StringComparison.Ordinal)
            .Replace("ABSENT", PathOf("absent"), StringComparison.Ordinal).Replace("FOLDER", directory, StringComparison.Ordinal);
        var (code, said) = CliOutput.Capture(() => Program.Main(arguments.Select(Fill).ToArray()));
        Assert.NotEqual(0, code);
        Assert.Contains(Fill(expected), said);
    }

    [Fact]
    public void Top_k_at_or_above_the_class_count_keeps_every_logit_and_says_so()
    {
        var teacher = Save(TeacherVariants.Base(channels: 1, size: 28, classes: 10), "teacher.onnx");
        var (code, said) = CliOutput.Capture(() => Program.Main(["score", "--teacher", teacher, "--split", "test", "--top-k", "20", "--out", PathOf("soft.parquet"), "--json", PathOf("score.json")]));
        Assert.Equal(0, code);
        Assert.Contains("(every logit: --top-k 20 is not below the 10 classes)", said);
        Assert.DoesNotContain("top-20", said);
        Assert.Equal(0, System.Text.Json.JsonDocument.Parse(File.ReadAllText(PathOf("score.json"))).RootElement.GetProperty("topK").GetInt32()); // stored full
    }
}
