using Mtkd.Training.SoftLabels;

namespace Mtkd.Training.Tests.SoftLabels;

/// <summary>Two-class soft labels are stored as one logit per teacher (z = l₁ − l₀) and read back as [0, z].</summary>
public sealed class BinarySoftLabelTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("mtkd-binary-soft-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static SoftLabelSet TwoTeachers() => new(new SoftLabelHeader(2, 2, ["a", "b"], ["no", "yes"]), [0, 1, 2], [1, 0, -1],
        [0.5f, 2f, -1f, 1f, /**/ 3f, -1f, 0f, 0f, /**/ 1.25f, 1.25f, 2f, -2f]);

    [Theory]
    [InlineData("soft.parquet")]
    [InlineData("soft.csv")]
    public void Each_teacher_is_one_column_and_reads_back_as_the_same_distribution(string name)
    {
        var path = Path.Combine(root, name);
        var original = TwoTeachers();
        SoftLabelWriter.Write(path, original);
        if (name.EndsWith(".csv"))
            Assert.Equal("index,label,t0_logit,t1_logit", File.ReadLines(path).First());

        var read = SoftLabelFile.Read(path);
        Assert.Equal((2, 2), (read.Header.TeacherCount, read.Header.ClassCount));
        Assert.Equal([1, 0, -1], read.Labels);
        // Row 0: teacher a [0.5, 2] → z 1.5; teacher b [-1, 1] → z 2; and so on.
        Assert.Equal([0f, 1.5f, 0f, 2f, 0f, -4f, 0f, 0f, 0f, 0f, 0f, -4f], read.Logits);
        for (int i = 0; i < read.Logits.Length; i += 2)
        {
            double Softmax1(float l0, float l1) => 1 / (1 + Math.Exp(l0 - l1));
            Assert.Equal(Softmax1(original.Logits[i], original.Logits[i + 1]), Softmax1(read.Logits[i], read.Logits[i + 1]), 6);
        }
    }

    [Fact]
    public void A_two_class_file_with_a_column_per_class_still_reads()
    {
        var path = Path.Combine(root, "old.csv");
        File.WriteAllLines(path, ["index,label,t0_c0,t0_c1", "0,1,0.5,2", "1,,-1,1"]);
        var read = SoftLabelFile.Read(path);
        Assert.Equal([0.5f, 2f, -1f, 1f], read.Logits);
    }

    [Fact]
    public void A_missing_teacher_column_is_named()
    {
        var path = Path.Combine(root, "gap.csv");
        File.WriteAllLines(path, ["index,label,t0_logit,t2_logit", "0,1,0.5,2"]);
        var error = Assert.Throws<InvalidDataException>(() => SoftLabelFile.Read(path));
        Assert.Contains("t1_logit is missing", error.Message);
    }
}
