using Mtkd.Cli;
using Mtkd.Tests.Scoring;
using Mtkd.Training.SoftLabels;

namespace Mtkd.Tests;

/// <summary>Bad inputs that used to get messages naming nothing (issue 16, fault 5) now name the file and what was expected.</summary>
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
    public void A_teacher_of_the_wrong_size_classes_or_kind_is_named_with_what_was_expected()
    {
        var (folder, folderMessage) = CliOutput.Capture(() => Program.Main(["score", "--teacher", directory, "--out", PathOf("a.parquet")]));
        Assert.Equal(2, folder); // the command line names something that cannot be a teacher
        Assert.Contains("is a folder; give the ONNX file itself", folderMessage);

        var small = Save(TeacherVariants.Base(channels: 3, size: 8, classes: 10), "small.onnx");
        var (size, sizeMessage) = CliOutput.Capture(() => Program.Main(["score", "--teacher", small, "--out", PathOf("b.parquet")]));
        Assert.Equal(2, size);
        Assert.Contains("takes images of 3×8×8 (192 values)", sizeMessage);
        Assert.Contains("784", sizeMessage);

        var seven = Save(TeacherVariants.Base(channels: 1, size: 28, classes: 7), "seven.onnx");
        var (classes, classMessage) = CliOutput.Capture(() => Program.Main(["distill", "--teacher", seven, "--quick", "--epochs", "1", "--out", PathOf("student")]));
        Assert.Equal(2, classes);
        Assert.Contains("have 7 classes; the training data has 10", classMessage);
    }

    [Fact]
    public void Damaged_soft_label_files_and_model_zips_are_named()
    {
        File.WriteAllText(PathOf("header.csv"), "index,label,t0_c0,t0_c1\n");
        Assert.Contains("has a header and no rows", Assert.Throws<InvalidDataException>(() => SoftLabelFile.Read(PathOf("header.csv"))).Message);

        File.WriteAllBytes(PathOf("model.zip"), [0x50, 0x4B, 0x03, 0x04, 1, 2, 3, 4, 5, 6, 7, 8]); // a zip's magic, then nothing
        var (code, output) = CliOutput.Capture(() => Program.Main(["evaluate", PathOf("model.zip")]));
        Assert.Equal(1, code);
        Assert.Contains("is not a readable ML.NET model zip", output);
        Assert.DoesNotContain("   at ", output); // no stack trace for a user's mistake
    }

    [Fact]
    public void A_bug_is_one_line_and_exit_code_70_with_its_stack_trace_only_under_verbose()
    {
        static int Bug() => throw new NullReferenceException("something was null");
        var (code, output) = CliOutput.Capture(() => Mtkd.Cli.Commands.CliErrors.Run(Bug));
        Assert.Equal(70, code);
        Assert.Contains("unexpected error (NullReferenceException): something was null", output);
        Assert.Contains("--verbose", output);
        Assert.DoesNotContain("   at ", output);
        Mtkd.Cli.Commands.CliErrors.Verbose = true;
        try
        {
            var (_, verbose) = CliOutput.Capture(() => Mtkd.Cli.Commands.CliErrors.Run(Bug));
            Assert.Contains("   at ", verbose);
        }
        finally
        {
            Mtkd.Cli.Commands.CliErrors.Verbose = false;
        }
        var (usage, said) = CliOutput.Capture(() => Mtkd.Cli.Commands.CliErrors.Run(() => throw new ArgumentException("--lr -1 is negative")));
        Assert.Equal(2, usage);
        Assert.Contains("error: --lr -1 is negative", said);
    }
}
