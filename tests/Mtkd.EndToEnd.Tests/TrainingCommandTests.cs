using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Mtkd.Cli;

namespace Mtkd.EndToEnd.Tests;

/// <summary>mtkd teachers and mtkd distill with --quick (2,000 real training images, 1,000 test images).</summary>
[Trait("Category", "EndToEnd")] // a whole run (training, packing or a process); excluded by the fast filter
public sealed class TrainingCommandTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-train-cli-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string PathOf(params string[] parts) => Path.Combine([directory, .. parts]);

    private static JsonElement Json(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement;

    private string[] Teachers()
    {
        Assert.Equal(0, Program.Main(["teachers", "--quick", "--method", "bagging", "--count", "2", "--epochs", "1", "--out", PathOf("teachers")]));
        return [PathOf("teachers", "teacher-0.onnx"), PathOf("teachers", "teacher-1.onnx")];
    }

    [Fact]
    public void Seeds_teachers_train_on_every_image_and_cross_fitted_ones_leave_one_fold_out_for_out_of_bag_soft_labels()
    {
        Assert.Equal(0, Program.Main(["teachers", "--quick", "--method", "seeds", "--count", "2", "--epochs", "1", "--out", PathOf("seeds")]));
        Assert.Equal("seeds", Json(PathOf("seeds", "teachers.json")).GetProperty("method").GetString());
        Assert.All(new[] { 0, 1 }, t => Assert.Null(Mtkd.Training.SoftLabels.TrainingRowSet.FromOnnx(PathOf("seeds", $"teacher-{t}.onnx"))));

        Assert.Equal(0, Program.Main(["teachers", "--quick", "--method", "cross-fit", "--folds", "3", "--epochs", "1", "--patience", "0", "--out", PathOf("folds")]));
        var rows = Enumerable.Range(0, 3).Select(t => Mtkd.Training.SoftLabels.TrainingRowSet.FromOnnx(PathOf("folds", $"teacher-{t}.onnx"))!).ToArray();
        int total = rows[0].RowCount;
        // Each row is left out by exactly one teacher: the folds partition the training rows.
        for (int r = 0; r < total; r++)
            if (rows.Any(set => set.Contains(r)))
                Assert.Equal(2, rows.Count(set => set.Contains(r)));
        int covered = Enumerable.Range(0, total).Count(r => rows.Any(set => set.Contains(r)));
        Assert.Equal(2000, covered); // --quick's training images, none held out with --patience 0
        Assert.All(rows, set => Assert.InRange(set.Count, 2 * covered / 3 - 1, 2 * covered / 3 + 1));
        Assert.Equal(0, Program.Main(["distill", "--teacher", PathOf("folds", "teacher-0.onnx"), "--teacher", PathOf("folds", "teacher-1.onnx"),
            "--teacher", PathOf("folds", "teacher-2.onnx"), "--out-of-bag", "--quick", "--epochs", "1", "--out", PathOf("oob")]));
    }

    [Fact]
    public void Specialists_record_their_classes_and_teach_as_one_unified_teacher()
    {
        Assert.Equal(0, Program.Main(["teachers", "--quick", "--method", "specialists", "--groups", "0-3;2-5;4-7;6-9;8,9,0,1", "--epochs", "1",
            "--out", PathOf("specialists")]));
        var report = Json(PathOf("specialists", "teachers.json"));
        Assert.Equal("specialists", report.GetProperty("method").GetString());
        Assert.Equal(["0-3", "2-5", "4-7", "6-9", "8,9,0,1"], report.GetProperty("teachers").EnumerateArray().Select(t => t.GetProperty("classes").GetString()));
        Assert.InRange(report.GetProperty("ensembleTestAccuracy").GetDouble(), 0.2, 1); // all ten classes, from the files (chance 10 %)
        var paths = Enumerable.Range(0, 5).Select(k => PathOf("specialists", $"teacher-{k}.onnx")).ToArray();
        var info = Mtkd.Training.Onnx.OnnxModelInfo.Read(File.ReadAllBytes(paths[4]), paths[4]);
        Assert.Equal("""{"classes":[8,9,0,1],"class_count":10}""", info.Metadata["mtkd.specialist"]);
        Assert.Equal("""["Bag","Ankle boot","T-shirt/top","Trouser","other"]""", info.Metadata["class_names"]);

        var (taught, said) = CliOutput.Capture(() => Program.Main(["distill", .. paths.SelectMany(p => new[] { "--teacher", p }), "--quick", "--epochs", "1",
            "--verbose", "--out", PathOf("taught")]));
        Assert.True(taught == 0, said);
        Assert.Equal(1, Json(PathOf("taught", "report.json")).GetProperty("teachers").GetInt32()); // the unified ensemble
        Assert.Equal("8,9,0,1", Mtkd.Training.Teachers.SpecialistClasses.FromOnnx(paths[4])!.ToString());
        // Scored, the specialists are one teacher of every class in the soft labels too.
        Assert.Equal(0, Program.Main(["score", .. paths.SelectMany(p => new[] { "--teacher", p }), "--split", "test", "--out", PathOf("soft.parquet")]));
        var soft = Mtkd.Training.SoftLabels.SoftLabelFile.Read(PathOf("soft.parquet"));
        Assert.Equal((1, 10), (soft.TeacherCount, soft.ClassCount));
        // Without the specialists of 6-9 and of 8, 9, 0, 1, classes 8 and 9 are known by none: a fault of the files, exit 1.
        Assert.Equal(1, Program.Main(["distill", .. paths.Take(3).SelectMany(p => new[] { "--teacher", p }), "--quick", "--out", PathOf("uncovered")]));
    }

    [Fact]
    public void The_proof_methods_run_from_their_generated_flags()
    {
        var teachers = Teachers();
        Assert.Equal(0, Program.Main(["distill", "--teacher", teachers[0], "--teacher", teachers[1], "--method", "hint", "--teacher-features", "features",
            "--hint-weight", "0.5", "--quick", "--epochs", "1", "--out", PathOf("hint")]));
        Assert.Equal("hint", Json(PathOf("hint", "report.json")).GetProperty("mode").GetString());
        // T chosen on the validation images (10 % held out): every setting in the report, the chosen one the student's.
        Assert.Equal(0, Program.Main(["distill", "--teacher", teachers[0], "--teacher", teachers[1], "--sweep-temperature", "1,4", "--quick", "--epochs", "1",
            "--out", PathOf("sweep")]));
        var sweep = Json(PathOf("sweep", "report.json"));
        var points = sweep.GetProperty("sweep").EnumerateArray().ToArray();
        Assert.Equal([1.0, 4.0], points.Select(p => p.GetProperty("temperature").GetDouble()));
        var chosen = points.MaxBy(p => p.GetProperty("validationAccuracy").GetDouble());
        Assert.Equal(chosen.GetProperty("temperature").GetDouble(), sweep.GetProperty("temperature").GetDouble());
        Assert.Equal(0, Program.Main(["distill", "--method", "mutual", "--students", "2", "--quick", "--epochs", "1", "--validation-fraction", "0.1", "--out", PathOf("mutual")]));
        var mutual = Json(PathOf("mutual", "report.json"));
        Assert.Equal((0, "mutual"), (mutual.GetProperty("teachers").GetInt32(), mutual.GetProperty("mode").GetString()));
        Assert.InRange(mutual.GetProperty("testAccuracy").GetDouble(), 0.2, 1);
        Assert.Equal(2, Program.Main(["distill", "--method", "mutual", "--teacher", teachers[0], "--quick", "--out", PathOf("refused")]));

        // Online ensemble compression: a student per width, each its own ONNX file; the narrowest is student.onnx.
        Assert.Equal(0, Program.Main(["distill", "--method", "online-ensemble", "--widths", "1,0.5", "--temperature", "2", "--quick", "--epochs", "1",
            "--baseline", "--out", PathOf("branches")]));
        var branches = Json(PathOf("branches", "report.json"));
        Assert.Equal(("online_ensemble", "cnn-small-w0.5"), (branches.GetProperty("mode").GetString(), branches.GetProperty("student").GetString()));
        var widths = branches.GetProperty("students").EnumerateArray().ToArray();
        Assert.Equal(["cnn-small", "cnn-small-w0.5"], widths.Select(w => w.GetProperty("student").GetString()));
        Assert.True(widths[1].GetProperty("parameters").GetInt64() < widths[0].GetProperty("parameters").GetInt64());
        Assert.Equal(File.ReadAllBytes(PathOf("branches", "student-1.onnx")), File.ReadAllBytes(PathOf("branches", "student.onnx")));
        // The branch ensemble as one model, the mean of both widths' logits, scored by ONNX Runtime.
        Assert.Equal(PathOf("branches", "ensemble.onnx"), branches.GetProperty("ensembleOnnx").GetString());
        Assert.InRange(branches.GetProperty("ensembleAccuracy").GetDouble(), 0.1, 1);
        // mtkd export of such a checkpoint writes its first student and says that there are others, and where.
        var (exported, said) = CliOutput.Capture(() => Program.Main(["export", PathOf("branches"), "--out", PathOf("first.onnx")]));
        Assert.Equal(0, exported);
        Assert.Contains("holds several students trained together", said);
        Assert.Contains("student-<k>.onnx", said);
        // --baseline: each width also trained alone on the labels, with its own checkpoints.
        Assert.All(widths, w => Assert.InRange(w.GetProperty("baselineAccuracy").GetDouble(), 0.1, 1));
        Assert.Equal(widths[1].GetProperty("baselineAccuracy").GetDouble(), branches.GetProperty("baselineAccuracy").GetDouble());
        Assert.True(File.Exists(PathOf("branches", "baseline-1", "metrics.csv")));
        Assert.Equal(2, Program.Main(["distill", "--method", "online-ensemble", "--widths", "1,x", "--quick", "--out", PathOf("bad-widths")]));
    }

    [Fact]
    public void Teachers_then_distill_write_models_metrics_and_reports_and_a_rerun_resumes()
    {
        var teachers = Teachers();
        var report = Json(PathOf("teachers", "teachers.json"));
        Assert.Equal(2, report.GetProperty("teachers").GetArrayLength());
        Assert.All(report.GetProperty("teachers").EnumerateArray(), t => Assert.InRange(t.GetProperty("testAccuracy").GetDouble(), 0.2, 1));
        Assert.True(File.Exists(PathOf("teachers", "teacher-1.csv")));

        string[] distill = ["distill", "--teacher", teachers[0], "--teacher", teachers[1], "--mode", "loss_avg", "--quick", "--epochs", "2",
            "--schedule", "cosine", "--shift", "1", "--out", PathOf("student")];
        Assert.Equal(0, Program.Main(distill));
        var student = Json(PathOf("student", "report.json"));
        Assert.Equal("loss_avg", student.GetProperty("mode").GetString());
        Assert.Equal(2, student.GetProperty("epochsRun").GetInt32());
        Assert.InRange(student.GetProperty("testAccuracy").GetDouble(), 0.2, 1);
        Assert.Equal(3, File.ReadAllLines(PathOf("student", "metrics.csv")).Length);
        using (var session = new InferenceSession(PathOf("student", "student.onnx")))
            Assert.Equal([-1, 10], session.OutputMetadata["logits"].Dimensions);

        var onnx = File.ReadAllBytes(PathOf("student", "student.onnx"));
        var metrics = File.ReadAllText(PathOf("student", "metrics.csv"));
        Assert.Equal(0, Program.Main(distill)); // finds the finished checkpoint: no training, the same student
        Assert.Equal(onnx, File.ReadAllBytes(PathOf("student", "student.onnx")));
        Assert.Equal(metrics, File.ReadAllText(PathOf("student", "metrics.csv")));

        // mtkd export rebuilds the same student from the checkpoint; folded, it has no batch-norm nodes and the same outputs.
        Assert.Equal(0, Program.Main(["export", PathOf("student"), "--out", PathOf("exported.onnx")]));
        Assert.Equal(onnx, File.ReadAllBytes(PathOf("exported.onnx")));
        Assert.Equal(0, Program.Main(["export", PathOf("student", "checkpoints"), "--out", PathOf("folded.onnx"), "--fold-batchnorm", "--opset", "11"]));
        Assert.Equal(1, Program.Main(["export", PathOf("nothing-here"), "--out", PathOf("x.onnx")]));

        // Consistent teaching: the teachers score every shifted batch.
        Assert.Equal(0, Program.Main(["distill", "--teacher", teachers[0], "--teacher", teachers[1], "--consistent", "--mode", "loss_avg", "--quick",
            "--epochs", "1", "--shift", "2", "--out", PathOf("consistent")]));
        Assert.InRange(Json(PathOf("consistent", "report.json")).GetProperty("testAccuracy").GetDouble(), 0.2, 1);
        Assert.Equal(2, Program.Main(["distill", "--soft-labels", PathOf("x.parquet"), "--consistent", "--quick", "--out", PathOf("bad")]));

        // The same seed in a fresh output folder gives the same model, byte for byte.
        Assert.Equal(0, Program.Main([.. distill[..^1], PathOf("again")]));
        Assert.Equal(onnx, File.ReadAllBytes(PathOf("again", "student.onnx")));
    }

    [Fact]
    public void Distill_reads_soft_labels_from_mtkd_score_and_snapshots_make_teachers()
    {
        Assert.Equal(0, Program.Main(["teachers", "--quick", "--method", "snapshot", "--count", "2", "--epochs", "1", "--out", PathOf("snapshots")]));
        Assert.Equal(0, Program.Main(["score", "--teacher", PathOf("snapshots", "teacher-0.onnx"), "--teacher", PathOf("snapshots", "teacher-1.onnx"),
            "--split", "train", "--out", PathOf("train.parquet")]));
        Assert.Equal(0, Program.Main(["distill", "--soft-labels", PathOf("train.parquet"), "--mode", "supernet", "--quick", "--epochs", "1",
            "--validation-fraction", "0.1", "--out", PathOf("student"), "--json", PathOf("student.json")]));
        var report = Json(PathOf("student.json"));
        Assert.Equal("supernet", report.GetProperty("mode").GetString());
        Assert.True(report.GetProperty("bestValidationAccuracy").GetDouble() > 0.2);

        // Snapshots all train on every image: their soft labels cannot be out-of-bag, and distill says why.
        Assert.False(Mtkd.Training.SoftLabels.SoftLabelFile.Read(PathOf("train.parquet")).Header.KnowsTrainingRows);
        Assert.Equal(2, Program.Main(["distill", "--soft-labels", PathOf("train.parquet"), "--out-of-bag", "--quick", "--epochs", "1", "--out", PathOf("oob")]));
    }

    [Fact]
    public void Bagged_teachers_early_stop_by_default_and_their_soft_labels_go_out_of_bag()
    {
        var teachers = Teachers();
        // Each bagged teacher validated on the quick set's rows its 70 % bag left out (the metrics log has its accuracy) ...
        var header = File.ReadLines(PathOf("teachers", "teacher-0.csv")).First().Split(',');
        var firstEpoch = File.ReadLines(PathOf("teachers", "teacher-0.csv")).Skip(1).First().Split(',');
        Assert.NotEqual("", firstEpoch[Array.IndexOf(header, "validation_accuracy")]);
        // ... and its ONNX file records the rows it trained on: 70 % of the 2,000 quick rows, by row of the training split.
        var rows = teachers.Select(Mtkd.Training.SoftLabels.TrainingRowSet.FromOnnx).ToArray();
        Assert.All(rows, r => Assert.Equal(1400, r!.Count));
        Assert.False(Enumerable.Range(0, 2000).All(i => rows[0]!.Contains(i) == rows[1]!.Contains(i)));

        Assert.Equal(0, Program.Main(["score", "--teacher", teachers[0], "--teacher", teachers[1], "--split", "train", "--out", PathOf("train.parquet")]));
        var set = Mtkd.Training.SoftLabels.SoftLabelFile.Read(PathOf("train.parquet"));
        Assert.True(set.Header.KnowsTrainingRows);
        Assert.Equal(Enumerable.Range(0, 2000).Select(i => rows[1]!.Contains(i)), Enumerable.Range(0, 2000).Select(i => set.Header.TeacherTrainingRows![1]!.Contains(i)));

        Assert.Equal(0, Program.Main(["distill", "--soft-labels", PathOf("train.parquet"), "--out-of-bag", "--quick", "--epochs", "1", "--out", PathOf("student")]));
        Assert.Equal(0, Program.Main(["distill", "--teacher", teachers[0], "--teacher", teachers[1], "--out-of-bag", "--quick", "--epochs", "1", "--out", PathOf("student2")]));
        Assert.Equal(2, Program.Main(["distill", "--teacher", teachers[0], "--consistent", "--out-of-bag", "--quick", "--epochs", "1", "--out", PathOf("student3")]));
        // A pool of 3 views scored once: --epochs 3 become one pass over three times the images.
        Assert.Equal(0, Program.Main(["distill", "--teacher", teachers[0], "--teacher", teachers[1], "--views", "3", "--shift", "2", "--quick", "--epochs", "3",
            "--out", PathOf("pool"), "--json", PathOf("pool.json")]));
        Assert.Equal(1, Json(PathOf("pool.json")).GetProperty("epochsRun").GetInt32());
        Assert.Equal(2, Program.Main(["distill", "--teacher", teachers[0], "--views", "3", "--quick", "--out", PathOf("pool2")])); // no augmentation to draw views with
        // --patience 0 turns early stopping off: no validation at all.
        Assert.Equal(0, Program.Main(["teachers", "--quick", "--count", "1", "--epochs", "1", "--patience", "0", "--out", PathOf("plain")]));
        var plain = File.ReadLines(PathOf("plain", "teacher-0.csv")).Skip(1).First().Split(',');
        Assert.Equal("", plain[Array.IndexOf(header, "validation_accuracy")]);
    }

    [Fact]
    public void Bad_requests_exit_with_2()
    {
        var teachers = Teachers();
        Assert.Equal(2, Program.Main(["distill", "--out", PathOf("a"), "--quick"])); // no teachers
        Assert.Equal(2, Program.Main(["distill", "--teacher", teachers[0], "--soft-labels", PathOf("x.parquet"), "--out", PathOf("b"), "--quick"]));
        Assert.Equal(2, Program.Main(["distill", "--teacher", teachers[0], "--mode", "supernet2", "--out", PathOf("c"), "--quick"]));
        Assert.Equal(2, Program.Main(["distill", "--teacher", teachers[0], "--mode", "averaging", "--out", PathOf("d"), "--quick"]));
        Assert.Equal(2, Program.Main(["distill", "--teacher", teachers[0], "--optimizer", "lbfgs", "--out", PathOf("e"), "--quick"]));
        Assert.Equal(2, Program.Main(["teachers", "--method", "boosting", "--out", PathOf("f"), "--quick"]));
    }
}
