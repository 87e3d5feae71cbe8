using Mtkd.Training.SoftLabels;

namespace Mtkd.MLNet.Tests.SoftLabels;

public sealed class SoftLabelFileTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-soft-labels-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    /// <summary>Synthetic soft labels: random logits, every seventh row unlabelled.</summary>
    private static SoftLabelSet Synthetic(int rows, int teachers = 3, int classes = 10, int seed = 1)
    {
        var random = new Random(seed);
        var header = new SoftLabelHeader(teachers, classes, Enumerable.Range(0, teachers).Select(t => $"teacher-{t}.onnx").ToArray(),
            Enumerable.Range(0, classes).Select(c => $"class {c}").ToArray());
        var logits = Enumerable.Range(0, rows * teachers * classes).Select(_ => (float)(random.NextDouble() * 20 - 10)).ToArray();
        var labels = Enumerable.Range(0, rows).Select(i => i % 7 == 3 ? -1 : random.Next(classes)).ToArray();
        return new SoftLabelSet(header, Enumerable.Range(0, rows).Select(i => 1000L + i).ToArray(), labels, logits);
    }

    [Theory]
    [InlineData("soft.parquet", 5)]
    [InlineData("soft.parquet", 40000)] // more than one row group
    [InlineData("soft.csv", 5)]
    public void Round_trip_keeps_every_value(string name, int rows)
    {
        var set = Synthetic(rows);
        var path = Path.Combine(directory, name);
        SoftLabelWriter.Write(path, set);
        var read = SoftLabelFile.Read(path);
        Assert.Equal(set.RowIds, read.RowIds);
        Assert.Equal(set.Labels, read.Labels);
        Assert.Equal(set.Logits, read.Logits);
        Assert.Equal(set.TeacherCount, read.TeacherCount);
        Assert.Equal(set.ClassCount, read.ClassCount);
        if (name.EndsWith(".parquet"))
        {
            Assert.Equal(set.Header.TeacherNames, read.Header.TeacherNames);
            Assert.Equal(set.Header.ClassNames, read.Header.ClassNames);
        }
    }

    [Fact]
    public void Csv_has_the_documented_columns()
    {
        var path = Path.Combine(directory, "soft.csv");
        SoftLabelWriter.Write(path, Synthetic(8, teachers: 2, classes: 3));
        var lines = File.ReadAllLines(path);
        Assert.Equal("index,label,t0_c0,t0_c1,t0_c2,t1_c0,t1_c1,t1_c2", lines[0]);
        Assert.Equal(9, lines.Length);
        Assert.StartsWith("1003,,", lines[4]); // row 3 is unlabelled: an empty label
    }

    [Fact]
    public void Top_k_keeps_the_kept_probabilities_exactly_and_shares_the_rest()
    {
        var set = Synthetic(50, teachers: 2, classes: 100);
        var path = Path.Combine(directory, "top5.parquet");
        SoftLabelWriter.Write(path, set, topK: 5);
        var read = SoftLabelFile.Read(path);
        Assert.Equal(set.Labels, read.Labels);
        for (int row = 0; row < set.RowCount; row++)
            for (int t = 0; t < 2; t++)
            {
                var original = Softmax(set.Row(row).Slice(t * 100, 100));
                var restored = Softmax(read.Row(row).Slice(t * 100, 100));
                var top = Enumerable.Range(0, 100).OrderByDescending(c => original[c]).Take(5).ToHashSet();
                foreach (var c in top)
                    Assert.True(Math.Abs(original[c] - restored[c]) < 1e-6, $"row {row}, teacher {t}, class {c}: {original[c]} vs {restored[c]}");
                double rest = 1 - top.Sum(c => original[c]);
                foreach (var c in Enumerable.Range(0, 100).Where(c => !top.Contains(c)))
                    Assert.True(Math.Abs(restored[c] - rest / 95) < 1e-6, $"row {row}, teacher {t}, dropped class {c}");
            }
        Assert.True(new FileInfo(path).Length < 0.25 * WrittenSize(set, "full.parquet"), "top-5 of 100 classes should be far smaller than every logit");
    }

    private long WrittenSize(SoftLabelSet set, string name)
    {
        var path = Path.Combine(directory, name);
        SoftLabelWriter.Write(path, set);
        return new FileInfo(path).Length;
    }

    [Fact]
    public void A_failed_write_leaves_the_old_file_and_no_temporary_file()
    {
        var path = Path.Combine(directory, "soft.parquet");
        SoftLabelWriter.Write(path, Synthetic(4));
        var before = File.ReadAllBytes(path);
        using (var writer = SoftLabelWriter.Create(path, Synthetic(1).Header))
        {
            writer.Append(0, 1, new float[30]);
            Assert.Throws<ArgumentException>(() => writer.Append(1, 1, new float[29]));
            // no Complete: the run failed
        }
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["soft.parquet"], Directory.GetFiles(directory).Select(Path.GetFileName));
    }

    [Fact]
    public void Bad_files_get_errors_naming_the_file_and_what_was_expected()
    {
        var notParquet = Path.Combine(directory, "notes.parquet");
        File.WriteAllText(notParquet, "these are not soft labels");
        var ex = Assert.Throws<InvalidDataException>(() => SoftLabelFile.Read(notParquet));
        Assert.Contains(notParquet, ex.Message);
        Assert.Contains("Parquet", ex.Message);

        var badNumber = Path.Combine(directory, "bad.csv");
        File.WriteAllText(badNumber, "index,label,t0_c0,t0_c1\n0,1,0.5,0.25\n1,0,abc,1\n");
        ex = Assert.Throws<InvalidDataException>(() => SoftLabelFile.Read(badNumber));
        Assert.Contains("line 3", ex.Message);
        Assert.Contains("t0_c0 'abc'", ex.Message);

        var badLabel = Path.Combine(directory, "label.csv");
        File.WriteAllText(badLabel, "index,label,t0_c0,t0_c1\n0,2,0.5,0.25\n");
        ex = Assert.Throws<InvalidDataException>(() => SoftLabelFile.Read(badLabel));
        Assert.Contains("label '2'", ex.Message);

        var gap = Path.Combine(directory, "gap.csv");
        File.WriteAllText(gap, "index,label,t0_c0,t0_c1,t1_c0\n0,1,0.5,0.25,1\n");
        ex = Assert.Throws<InvalidDataException>(() => SoftLabelFile.Read(gap));
        Assert.Contains("t1_c1 is missing", ex.Message);

        Assert.Throws<FileNotFoundException>(() => SoftLabelFile.Read(Path.Combine(directory, "absent.parquet")));
        var topKCsv = Assert.Throws<ArgumentException>(() => SoftLabelWriter.Create(Path.Combine(directory, "x.csv"), Synthetic(1).Header, topK: 3));
        Assert.Contains("Parquet", topKCsv.Message);
    }

    private static double[] Softmax(ReadOnlySpan<float> logits)
    {
        var values = logits.ToArray().Select(v => (double)v).ToArray();
        double max = values.Max();
        var exp = values.Select(v => Math.Exp(v - max)).ToArray();
        double sum = exp.Sum();
        return exp.Select(e => e / sum).ToArray();
    }
}

/// <summary>SaveAsSoftLabels on data that did not come from ScoreTeachers: own ids, numeric labels, no annotations.</summary>
public sealed class SoftLabelSaveOptionsTests : IDisposable
{
    private readonly Microsoft.ML.MLContext ml = new(seed: 1);
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-save-options-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private sealed class Row
    {
        public long Id { get; set; }
        public float Label { get; set; }
        [Microsoft.ML.Data.VectorType(6)] public float[] TeacherLogits { get; set; } = [];
    }

    private Microsoft.ML.IDataView Data(params float[] labels) => ml.Data.LoadFromEnumerable(labels.Select((label, i) => new Row
    {
        Id = 100 + i * 10,
        Label = label,
        TeacherLogits = [i, 1, 2, 3, 4, i * 2],
    }));

    [Fact]
    public void Ids_and_numeric_labels_are_written_as_given()
    {
        var path = Path.Combine(directory, "soft.parquet");
        var summary = Mtkd.MLNet.SoftLabels.SoftLabelDataOperations.SaveAsSoftLabels(ml.Data, Data(0, 2, float.NaN), path,
            new Mtkd.MLNet.SoftLabels.SoftLabelSaveOptions { IndexColumnName = "Id", TeacherCount = 2 });
        Assert.Equal(3, summary.ClassCount);
        var set = SoftLabelFile.Read(path);
        Assert.Equal([100L, 110, 120], set.RowIds);
        Assert.Equal([0, 2, -1], set.Labels); // NaN: unknown
        Assert.Equal([2f, 1, 2, 3, 4, 4], set.Row(2).ToArray());
    }

    [Fact]
    public void Bad_labels_and_unknown_teacher_counts_are_refused_naming_the_column()
    {
        var ex = Assert.Throws<InvalidDataException>(() => Mtkd.MLNet.SoftLabels.SoftLabelDataOperations.SaveAsSoftLabels(ml.Data, Data(0, 5),
            Path.Combine(directory, "bad.parquet"), new Mtkd.MLNet.SoftLabels.SoftLabelSaveOptions { TeacherCount = 2 }));
        Assert.Contains("'Label'", ex.Message);
        Assert.Contains("value 5", ex.Message);
        Assert.Empty(Directory.GetFiles(directory)); // nothing half-written left behind

        var unknown = Assert.Throws<ArgumentException>(() => Mtkd.MLNet.SoftLabels.SoftLabelDataOperations.SaveAsSoftLabels(ml.Data, Data(0),
            Path.Combine(directory, "x.parquet")));
        Assert.Contains("TeacherCount", unknown.Message);
    }
}
