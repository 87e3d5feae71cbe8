using Mtkd.Training.SoftLabels;

namespace Mtkd.Training.Tests.SoftLabels;

/// <summary>The rows a teacher trained on: encoded, carried in soft-label files, and refused when damaged.</summary>
public sealed class TrainingRowSetTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-training-rows-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void Encoding_round_trips_and_rows_past_the_end_were_never_seen()
    {
        var rows = TrainingRowSet.Of([0, 3, 8, 12], rowCount: 13);
        Assert.Equal(4, rows.Count);
        // Bits 0 and 3 of byte 0 (0x09), bits 0 and 4 of byte 1 (0x11).
        Assert.Equal("13:" + Convert.ToBase64String([0x09, 0x11]), rows.Encode());
        var back = TrainingRowSet.Decode(rows.Encode(), "test");
        Assert.Equal(13, back.RowCount);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => rows.Contains(i)), Enumerable.Range(0, 20).Select(i => back.Contains(i)));
        Assert.False(back.Contains(13));
        Assert.False(back.Contains(-1));
    }

    [Theory]
    [InlineData("no colon")]
    [InlineData("13:%%%")]
    [InlineData("13:AAAA")] // 3 bytes for 13 rows, which need 2
    public void Damaged_text_is_refused_naming_the_source(string text)
    {
        var error = Assert.Throws<InvalidDataException>(() => TrainingRowSet.Decode(text, "teacher-3.onnx"));
        Assert.Contains("teacher-3.onnx", error.Message);
    }

    [Fact]
    public void A_row_id_outside_the_split_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainingRowSet.Of([5], rowCount: 5));

    [Fact]
    public void Parquet_files_keep_each_teacher_s_rows_and_csv_refuses_them()
    {
        var header = new SoftLabelHeader(2, 3, ["a.onnx", "b.onnx"], TeacherTrainingRows: [TrainingRowSet.Of([0, 2], 4), null]);
        var set = new SoftLabelSet(header, [0, 1, 2, 3], [0, 1, -1, 2], new float[4 * 6]);
        var path = Path.Combine(directory, "soft.parquet");
        SoftLabelWriter.Write(path, set);
        var read = SoftLabelFile.Read(path).Header;
        Assert.False(read.KnowsTrainingRows); // teacher b's rows are unknown
        Assert.Equal([true, false, true, false], Enumerable.Range(0, 4).Select(i => read.TeacherTrainingRows![0]!.Contains(i)));
        Assert.Null(read.TeacherTrainingRows![1]);

        var csv = Path.Combine(directory, "soft.csv");
        var error = Assert.Throws<ArgumentException>(() => SoftLabelWriter.Write(csv, set));
        Assert.Contains("Parquet", error.Message);
        Assert.False(File.Exists(csv));
    }

    [Fact]
    public void A_header_with_rows_for_the_wrong_number_of_teachers_is_refused() =>
        Assert.Throws<ArgumentException>(() => new SoftLabelHeader(2, 3, ["a", "b"], TeacherTrainingRows: [TrainingRowSet.Of([0], 1)]).Validate());
}
