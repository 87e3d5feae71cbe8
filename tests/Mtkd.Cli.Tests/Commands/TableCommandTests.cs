using Mtkd.Cli;
using Mtkd.Training.Onnx;

namespace Mtkd.Cli.Tests.Commands;

/// <summary>
/// The command line on a table of numeric features (scikit-learn's handwritten digits as a CSV with a header):
/// MLP teachers, distillation into a smaller MLP and evaluation, each reading --data table.csv --label-column digit.
/// </summary>
public sealed class TableCommandTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("mtkd-table-cli-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private string PathOf(string name) => Path.Combine(root, name);

    // The digits as table.csv: p0..p63 (values 0 to 1) and digit; the first 600 rows keep the test quick.
    private string WriteTable(int rows = 600)
    {
        var (features, labels) = SklearnDigits.Load();
        var lines = new List<string> { string.Join(",", Enumerable.Range(0, 64).Select(i => $"p{i}").Append("digit")) };
        for (int r = 0; r < rows; r++)
            lines.Add(string.Join(",", features[r].Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)).Append(labels[r].ToString())));
        File.WriteAllLines(PathOf("table.csv"), lines);
        return PathOf("table.csv");
    }

    [Fact]
    public void Teachers_distill_and_evaluate_run_on_a_table_and_export_models_taking_feature_vectors()
    {
        string[] data = ["--data", WriteTable(), "--label-column", "digit"];
        Assert.Equal(0, Program.Main(["teachers", .. data, "--arch", "mlp", "--count", "2", "--epochs", "5", "--out", PathOf("teachers")]));
        var info = OnnxModelInfo.Read(PathOf("teachers/teacher-0.onnx"));
        Assert.Equal([null, 64], info.Inputs[0].Shape.Select(d => d is > 0 ? d : null));
        Assert.Equal("[\"0\",\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]", info.Metadata["class_names"]);

        string[] teachers = ["--teacher", PathOf("teachers/teacher-0.onnx"), "--teacher", PathOf("teachers/teacher-1.onnx")];
        Assert.Equal(0, Program.Main(["distill", .. data, .. teachers, "--student", "mlp", "--width", "16", "--epochs", "5", "--out", PathOf("student")]));
        Assert.Equal([null, 64], OnnxModelInfo.Read(PathOf("student/student.onnx")).Inputs[0].Shape.Select(d => d is > 0 ? d : null));
        var (code, output) = CliOutput.Capture(() => Program.Main(["evaluate", PathOf("student/student.onnx"), .. data]));
        Assert.Equal(0, code);
        Assert.Contains("120", output); // 20 % of each class of 600 rows is the test split

        // A teacher of feature vectors given images is refused naming both shapes.
        var (images, imagesMessage) = CliOutput.Capture(() => Program.Main(["score", "--teacher", PathOf("teachers/teacher-0.onnx"), "--out", PathOf("soft.parquet")]));
        Assert.Equal(1, images);
        Assert.Contains("takes feature vectors of 64 values; the data's images are 1×28×28 (784 values)", imagesMessage);
    }

    [Fact]
    public void Two_class_data_gives_models_with_one_logit_output_which_teach_as_two_classes()
    {
        // Zeros against ones: a yes/no table.
        var (features, labels) = SklearnDigits.Load();
        var lines = new List<string> { string.Join(",", Enumerable.Range(0, 64).Select(i => $"p{i}").Append("digit")) };
        for (int r = 0; r < labels.Length; r++)
            if (labels[r] < 2)
                lines.Add(string.Join(",", features[r].Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)).Append(labels[r].ToString())));
        File.WriteAllLines(PathOf("binary.csv"), lines);
        string[] data = ["--data", PathOf("binary.csv"), "--label-column", "digit"];

        Assert.Equal(0, Program.Main(["teachers", .. data, "--arch", "mlp", "--count", "2", "--epochs", "3", "--out", PathOf("teachers")]));
        using (var teacher = new Microsoft.ML.OnnxRuntime.InferenceSession(PathOf("teachers/teacher-0.onnx")))
            Assert.Equal([-1, 1], teacher.OutputMetadata["logits"].Dimensions);
        Assert.Equal(0, Program.Main(["distill", .. data, "--teacher", PathOf("teachers/teacher-0.onnx"), "--teacher", PathOf("teachers/teacher-1.onnx"),
            "--student", "mlp", "--epochs", "3", "--out", PathOf("student")]));
        using var student = new Microsoft.ML.OnnxRuntime.InferenceSession(PathOf("student/student.onnx"));
        Assert.Equal([-1, 1], student.OutputMetadata["logits"].Dimensions);
        Assert.Equal([-1, 1], student.OutputMetadata["probabilities"].Dimensions);
        var (code, output) = CliOutput.Capture(() => Program.Main(["evaluate", PathOf("student/student.onnx"), .. data]));
        Assert.Equal(0, code);
        Assert.Contains("%", output);
    }

    [Fact]
    public void Bad_tables_and_image_flags_are_refused_naming_the_line_column_or_flag()
    {
        string table = WriteTable(rows: 40);
        File.AppendAllLines(table, [string.Join(",", Enumerable.Repeat("0", 30).Append("n/a").Concat(Enumerable.Repeat("0", 33)).Append("3"))]);
        var (badValue, badMessage) = CliOutput.Capture(() => Program.Main(["teachers", "--data", table, "--label-column", "digit", "--arch", "mlp", "--out", PathOf("t")]));
        Assert.Equal(1, badValue);
        Assert.Contains("line 42, column 'p30': 'n/a' is not a finite number", badMessage);

        string good = WriteTable(rows: 40);
        var (noColumn, columnMessage) = CliOutput.Capture(() => Program.Main(["teachers", "--data", good, "--label-column", "label", "--arch", "mlp", "--out", PathOf("t")]));
        Assert.Equal(2, noColumn);
        Assert.Contains("--label-column label", columnMessage);
        var (imageFlag, flagMessage) = CliOutput.Capture(() => Program.Main(["teachers", "--data", good, "--label-column", "digit", "--image-size", "8x8", "--out", PathOf("t")]));
        Assert.Equal(2, imageFlag);
        Assert.Contains("--image-size is for images", flagMessage);
        var (shift, shiftMessage) = CliOutput.Capture(() => Program.Main(["teachers", "--data", good, "--label-column", "digit", "--arch", "mlp", "--shift", "2", "--out", PathOf("t")]));
        Assert.Equal(2, shift);
        Assert.Contains("feature vectors of 64 values", shiftMessage);
    }
}
