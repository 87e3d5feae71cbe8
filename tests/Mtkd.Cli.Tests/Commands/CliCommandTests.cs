using System.Text.Json;
using Mtkd.Cli;
using Microsoft.ML;
using Mtkd.MLNet;
using Mtkd.Training.Data;
using Mtkd.Training.Fusion;
using Mtkd.Training.SoftLabels;

namespace Mtkd.Cli.Tests.Commands;

/// <summary>mtkd score, fuse and inspect, run in-process on the real Fashion-MNIST test split with two small real teachers.</summary>
[Collection(TinyFashionMnistCollection.Name)]
public sealed class CliCommandTests(TinyFashionMnist data) : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-cli-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string PathOf(string name) => Path.Combine(directory, name);

    private static JsonElement Json(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement;

    private string[] TeacherArguments => data.TeacherPaths.SelectMany(p => new[] { "--teacher", p }).ToArray();

    [Fact]
    public void Score_then_fuse_reports_what_the_file_holds()
    {
        string soft = PathOf("test.parquet");
        Assert.Equal(0, Program.Main(["score", .. TeacherArguments, "--split", "test", "--out", soft, "--json", PathOf("score.json")]));
        var score = Json(PathOf("score.json"));
        Assert.Equal(10000, score.GetProperty("rows").GetInt32());
        Assert.Equal(10000 / score.GetProperty("seconds").GetDouble(), score.GetProperty("imagesPerSecond").GetDouble(), 6); // rows over the time taken
        Assert.Equal(new FileInfo(soft).Length / 10000.0, score.GetProperty("bytesPerRow").GetDouble(), 6);

        var set = SoftLabelFile.Read(soft);
        Assert.Equal(FashionMnist.Load(DataSplit.Test).Labels, set.Labels);
        Assert.Equal(Enumerable.Range(0, 10000).Select(i => (long)i), set.RowIds);

        Assert.Equal(0, Program.Main(["fuse", soft, "--json", PathOf("fuse.json")]));
        var fuse = Json(PathOf("fuse.json"));
        var teachers = fuse.GetProperty("teachers").EnumerateArray().ToArray();
        for (int t = 0; t < 2; t++)
            Assert.Equal(SoftLabelAccuracy.Teacher(set.Logits, set.Labels, 2, 10, t), teachers[t].GetProperty("accuracy").GetDouble(), 12);
        var methods = fuse.GetProperty("methods").EnumerateArray().ToDictionary(m => m.GetProperty("model").GetString()!, m => m.GetProperty("accuracy").GetDouble());
        Assert.Equal(Enum.GetNames<FusionMethod>(), methods.Keys);
        Assert.Equal(SoftLabelAccuracy.MeanProbability(set.Logits, set.Labels, 2, 10), methods["MeanProbability"], 12);

        // --export: the two teachers as one ONNX model fused by MaxConfidence, which scores the test images as the table said.
        string[] export = ["fuse", soft, .. TeacherArguments, "--method", "MaxConfidence", "--export", PathOf("ensemble.onnx")];
        Assert.Equal(0, Program.Main(export));
        using var merged = Mtkd.Training.Teachers.OnnxTeachers.Load([Mtkd.Training.Teachers.TeacherModel.FromFile(PathOf("ensemble.onnx"))]);
        var test = FashionMnist.Load(DataSplit.Test);
        Assert.Equal(methods["MaxConfidence"], SoftLabelAccuracy.MeanProbability(merged.Logits(test), test.Labels, 1, 10), 3);
        Assert.Equal(2, Program.Main(["fuse", soft, .. TeacherArguments, "--method", "Borda", "--export", PathOf("borda.onnx")]));
        Assert.Equal(2, Program.Main(["fuse", soft, .. TeacherArguments]));
    }

    [Fact]
    public void Score_writes_csv_with_the_documented_columns()
    {
        string csv = PathOf("test.csv");
        Assert.Equal(0, Program.Main(["score", .. TeacherArguments, "--split", "test", "--out", csv]));
        using var reader = new StreamReader(csv);
        Assert.Equal("index,label," + string.Join(",", Enumerable.Range(0, 20).Select(i => $"t{i / 10}_c{i % 10}")), reader.ReadLine());
        Assert.StartsWith("0,9,", reader.ReadLine()); // the first test image is an ankle boot, class 9
    }

    [Fact]
    public void Inspect_describes_a_teacher()
    {
        Assert.Equal(0, Program.Main(["inspect", data.TeacherPaths[0], "--json", PathOf("inspect.json")]));
        var report = Json(PathOf("inspect.json")).GetProperty("models")[0];
        Assert.Equal(13, report.GetProperty("opsets").GetProperty("ai.onnx").GetInt64());
        // teacher-cnn: 105,962 trainable weights plus 96 batch-norm running statistics, all initializers in ONNX.
        Assert.Equal(106058, report.GetProperty("parameters").GetInt64());
        var input = report.GetProperty("inputs")[0];
        Assert.Equal("[batch, 1, 28, 28]", input.GetProperty("shape").GetString());
        Assert.Equal("Nchw", input.GetProperty("note").GetString());
        var outputs = report.GetProperty("outputs").EnumerateArray().ToArray();
        Assert.Equal("logits", outputs[0].GetProperty("name").GetString());
        Assert.Equal("loads", report.GetProperty("onnxRuntime").GetString());
        // teacher-cnn on 28×28: conv 28·28·16·9 + conv 14·14·32·16·9 + linear 1568·64 + 64·10 = 1,117,056 MACs.
        Assert.Equal(112896 + 903168 + 100352 + 640, report.GetProperty("multiplyAccumulates").GetInt64());

        Assert.Equal(0, Program.Main(["inspect", .. data.TeacherPaths, "--json", PathOf("ensemble.json")]));
        var ensemble = Json(PathOf("ensemble.json")).GetProperty("ensemble");
        Assert.Equal(2 * 106058, ensemble.GetProperty("parameters").GetInt64());
        Assert.Equal(2 * 1117056, ensemble.GetProperty("multiplyAccumulates").GetInt64());
    }

    [Fact]
    public void Evaluate_reports_accuracy_per_class_figures_and_compression_for_onnx_and_zip_models()
    {
        Assert.Equal(0, Program.Main(["evaluate", data.TeacherPaths[0], "--teacher", data.TeacherPaths[0], "--teacher", data.TeacherPaths[1], "--json", PathOf("eval.json")]));
        var report = Json(PathOf("eval.json"));
        var test = FashionMnist.Load(DataSplit.Test);
        // The same accuracy counted independently with a plain ONNX Runtime session.
        using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(data.TeacherPaths[0]))
        using (var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(test.ReadAllPixels(), [10000, 1, 28, 28]))
        using (var outputs = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), ["input"], [input], ["logits"]))
        {
            var logits = outputs[0].GetTensorDataAsSpan<float>().ToArray();
            int correct = Enumerable.Range(0, 10000).Count(i => Array.IndexOf(logits, logits.Skip(i * 10).Take(10).Max(), i * 10, 10) - i * 10 == test.Labels[i]);
            Assert.Equal(correct / 10000.0, report.GetProperty("accuracy").GetDouble(), 10);
        }
        var matrix = report.GetProperty("confusionMatrix").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        Assert.Equal(10000, matrix.Sum(r => r.Sum()));
        Assert.Equal(1000, report.GetProperty("classes")[3].GetProperty("support").GetInt32());
        Assert.True(report.GetProperty("millisecondsPerImageAtBatch1").GetDouble() > 0);
        Assert.Equal(106058, report.GetProperty("figures").GetProperty("parameters").GetInt64());
        Assert.Equal(2 * 106058, report.GetProperty("ensemble").GetProperty("parameters").GetInt64());

        var ml = new Microsoft.ML.MLContext(seed: 1);
        var student = ml.Transforms.ScoreTeachers(data.TeacherPaths)
            .Append(ml.MulticlassClassification.Trainers.MultiTeacherDistillation(new() { Trainer = { Epochs = 1 } }))
            .Fit(Mtkd.MLNet.Data.ImageDatasetExtensions.ToDataView(data.Train, ml)).LastTransformer;
        var testView = Mtkd.MLNet.Data.ImageDatasetExtensions.ToDataView(test, ml);
        ml.Model.Save(student, testView.Schema, PathOf("student.zip"));
        Assert.Equal(0, Program.Main(["evaluate", PathOf("student.zip"), "--json", PathOf("zip.json")]));
        Assert.Equal(ml.MulticlassClassification.Evaluate(student.Transform(testView)).MicroAccuracy, Json(PathOf("zip.json")).GetProperty("accuracy").GetDouble(), 10);
        Assert.Equal(1, Program.Main(["evaluate", PathOf("absent.onnx")]));
    }

    [Fact]
    public void Export_int8_writes_a_quantized_model_beside_the_float_one_and_evaluate_compares_them()
    {
        string run = PathOf("run");
        Assert.Equal(0, CliOutput.Capture(() => Program.Main(["distill", "--method", "labels", "--quick", "--epochs", "1", "--out", run])).Code);
        string student = PathOf("student.onnx"), int8 = PathOf("student.int8.onnx");
        var (code, said) = CliOutput.Capture(() => Program.Main(["export", run, "--out", student, "--int8", "--calibration-images", "100"]));
        Assert.True(code == 0, said);
        Assert.Contains("calibrated on 100 training images", said);
        Assert.True(Mtkd.Training.Onnx.OnnxQuantizer.IsQuantized(File.ReadAllBytes(int8)));
        Assert.False(Mtkd.Training.Onnx.OnnxQuantizer.IsQuantized(File.ReadAllBytes(student)));
        Assert.True(new FileInfo(int8).Length < 0.35 * new FileInfo(student).Length);

        Assert.Equal(0, Program.Main(["evaluate", student, int8, "--json", PathOf("both.json")]));
        var reports = Json(PathOf("both.json")).EnumerateArray().ToArray();
        Assert.Equal(["float32", "int8"], reports.Select(r => r.GetProperty("weights").GetString()));
        // The same multiply-accumulates; fewer stored parameters, the batch norms being folded into the convolutions.
        Assert.Equal(reports[0].GetProperty("figures").GetProperty("multiplyAccumulates").GetInt64(), reports[1].GetProperty("figures").GetProperty("multiplyAccumulates").GetInt64());
        Assert.True(reports[1].GetProperty("figures").GetProperty("parameters").GetInt64() < reports[0].GetProperty("figures").GetProperty("parameters").GetInt64());
        Assert.InRange(Math.Abs(reports[0].GetProperty("accuracy").GetDouble() - reports[1].GetProperty("accuracy").GetDouble()), 0, 0.03);

        // Calibration flags without --int8, or no images to calibrate on, are refused by name (exit 2).
        var (without, withoutSaid) = CliOutput.Capture(() => Program.Main(["export", run, "--out", PathOf("x.onnx"), "--calibration-images", "50"]));
        Assert.Equal(2, without);
        Assert.Contains("--calibration-images is for --int8", withoutSaid);
        var (zero, zeroSaid) = CliOutput.Capture(() => Program.Main(["export", run, "--out", PathOf("y.onnx"), "--int8", "--calibration-images", "0"]));
        Assert.Equal(2, zero);
        Assert.Contains("--calibration-images 0", zeroSaid);
        Assert.False(File.Exists(PathOf("y.onnx")));
    }

    [Fact]
    public void Shards_merged_equal_one_run_byte_for_byte_and_gaps_or_overlaps_are_refused()
    {
        string whole = PathOf("whole.parquet");
        Assert.Equal(0, Program.Main(["score", .. TeacherArguments, "--split", "test", "--batch-size", "64", "--out", whole]));
        // Blocks of 16 × 64 rows: the 10,000 test images make 10 blocks (the last of 784), dealt to 3 shards round-robin.
        var parts = Enumerable.Range(0, 3).Select(i => PathOf($"part-{i}.parquet")).ToArray();
        for (int i = 0; i < 3; i++)
            Assert.Equal(0, Program.Main(["score", .. TeacherArguments, "--split", "test", "--batch-size", "64", "--shard", $"{i}/3", "--out", parts[i]]));
        Assert.Equal(3 * 1024 + 784, Mtkd.Training.SoftLabels.SoftLabelFile.Read(parts[0]).RowCount); // blocks 0, 3, 6 and the short block 9
        Assert.Equal(0, Program.Main(["score", "--merge", parts[2], parts[0], parts[1], "--out", PathOf("merged.parquet")]));
        Assert.Equal(File.ReadAllBytes(whole), File.ReadAllBytes(PathOf("merged.parquet")));

        Assert.Equal(1, Program.Main(["score", "--merge", parts[0], parts[2], "--out", PathOf("gap.parquet")])); // part 1 missing
        Assert.Equal(1, Program.Main(["score", "--merge", parts[0], parts[0], parts[1], parts[2], "--out", PathOf("overlap.parquet")]));
        Assert.False(File.Exists(PathOf("gap.parquet")) || File.Exists(PathOf("overlap.parquet")));
        Assert.Equal(2, Program.Main(["score", .. TeacherArguments, "--shard", "3/3", "--out", PathOf("bad.parquet")]));
        Assert.Equal(2, Program.Main(["score", .. TeacherArguments, "--shard", "auto/2", "--out", PathOf("bad.parquet")])); // no scheduler index set
    }

    [Fact]
    public void Bad_inputs_exit_with_1_and_leave_existing_output_alone()
    {
        string notOnnx = PathOf("notes.onnx");
        File.WriteAllText(notOnnx, "not a model");
        string existing = PathOf("keep.parquet");
        File.WriteAllText(existing, "previous results");

        Assert.Equal(1, Program.Main(["score", "--teacher", notOnnx, "--split", "test", "--out", existing]));
        Assert.Equal(2, Program.Main(["score", .. TeacherArguments, "--split", "test", "--out", PathOf("x.csv"), "--top-k", "3"]));
        Assert.Equal(1, Program.Main(["inspect", notOnnx]));
        Assert.Equal(1, Program.Main(["fuse", PathOf("absent.parquet")]));
        Assert.Equal(1, Program.Main(["fuse", existing]));
        Assert.Equal("previous results", File.ReadAllText(existing));
        Assert.Equal(["keep.parquet", "notes.onnx"], Directory.GetFiles(directory).Select(Path.GetFileName).Order());
    }
}

/// <summary>Which shard a task is: given, or from the scheduler's environment.</summary>
public sealed class ScoreShardTests
{
    [Fact]
    public void Shards_come_from_the_flag_or_the_scheduler_and_deal_blocks_round_robin()
    {
        Assert.Equal(new Mtkd.Cli.Commands.ScoreShards.Shard(1, 4), Mtkd.Cli.Commands.ScoreShards.Parse("1/4", _ => null));
        Assert.Equal(2, Mtkd.Cli.Commands.ScoreShards.Parse("auto/4", v => v == "JOB_COMPLETION_INDEX" ? "2" : null).Index);
        Assert.Equal(3, Mtkd.Cli.Commands.ScoreShards.Parse("auto/4", v => v == "SLURM_ARRAY_TASK_ID" ? "3" : null).Index);
        Assert.Throws<ArgumentException>(() => Mtkd.Cli.Commands.ScoreShards.Parse("4/4", _ => null));
        Assert.Throws<ArgumentException>(() => Mtkd.Cli.Commands.ScoreShards.Parse("1", _ => null));
        // 10 rows in blocks of 2 over 2 shards: blocks 0, 2, 4 and 1, 3.
        Assert.Equal([0, 1, 4, 5, 8, 9], Mtkd.Cli.Commands.ScoreShards.Rows(10, new(0, 2), 2));
        Assert.Equal([2, 3, 6, 7], Mtkd.Cli.Commands.ScoreShards.Rows(10, new(1, 2), 2));
    }
}
