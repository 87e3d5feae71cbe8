using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Mtkd.MLNet;
using Mtkd.MLNet.Scoring;
using Mtkd.Training.Onnx;
using Mtkd.Training.Onnx.Proto;
using Mtkd.Training.Teachers;

namespace Mtkd.MLNet.Tests.Scoring;

/// <summary>ScoreTeachers against teachers in the forms users bring them, each checked against the original model run directly.</summary>
public sealed class TeacherScoringTests : IDisposable
{
    private const int Rows = 37, Channels = 3, Size = 8, Classes = 5;
    private const int ImageSize = Channels * Size * Size;

    private readonly MLContext ml = new(seed: 1);
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-scoring-").FullName;
    private readonly float[] images; // synthetic: uniform noise images, C×H×W each

    private sealed class Row
    {
        [VectorType(ImageSize)] public float[] Features { get; set; } = [];
    }

    public TeacherScoringTests()
    {
        var random = new Random(5);
        images = Enumerable.Range(0, Rows * ImageSize).Select(_ => (float)random.NextDouble()).ToArray();
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private IDataView Data(int imageSize = ImageSize)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, imageSize);
        var rows = Enumerable.Range(0, Rows).Select(i => new Row { Features = images.AsSpan(i * imageSize, imageSize).ToArray() });
        return ml.Data.LoadFromEnumerable(rows, schema);
    }

    private string Save(ModelProto model, string name)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllBytes(path, model.Bytes());
        return path;
    }

    /// <summary>The original model's logits, from a plain InferenceSession on NCHW input.</summary>
    private float[] Reference(ModelProto model, int channels = Channels, int size = Size)
    {
        using var session = new InferenceSession(model.Bytes());
        using var input = OrtValue.CreateTensorValueFromMemory(images.AsSpan(0, Rows * channels * size * size).ToArray(), [Rows, channels, size, size]);
        using var outputs = session.Run(new RunOptions(), ["input"], [input], ["logits"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static float[] LogSoftmax(float[] logits, int classes)
    {
        var result = new float[logits.Length];
        for (int r = 0; r < logits.Length / classes; r++)
        {
            var row = logits.AsSpan(r * classes, classes);
            double max = row.ToArray().Max();
            double lse = max + Math.Log(row.ToArray().Sum(v => Math.Exp(v - max)));
            for (int c = 0; c < classes; c++) result[r * classes + c] = (float)(row[c] - lse);
        }
        return result;
    }

    private (float[] Logits, TeacherScoringTransformer Scorer) Score(TeacherScoringEstimator.Options options, IDataView? data = null)
    {
        data ??= Data();
        var scorer = ml.Transforms.ScoreTeachers(options).Fit(data);
        var scored = scorer.Transform(data);
        var column = scored.GetColumn<float[]>(options.OutputColumnName).SelectMany(r => r).ToArray();
        return (column, scorer);
    }

    private (float[] Logits, TeacherDescription Teacher) ScoreOne(TeacherModel teacher, int batchSize = 16)
    {
        var (logits, scorer) = Score(new TeacherScoringEstimator.Options { Teachers = [teacher], BatchSize = batchSize });
        using (scorer) return (logits, scorer.TeacherDescriptions[0]);
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance = 1e-4)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst < tolerance, $"largest difference {worst:G3}");
    }

    [Fact]
    public void A_keras_style_teacher_is_transposed_and_its_probabilities_turned_into_log_probabilities()
    {
        var model = TeacherVariants.Base();
        var keras = model.ChannelsLast().Outputs("probabilities").RenameOutput("probabilities", "dense_1/Softmax:0").Opset(9, irVersion: 5);
        var (logits, teacher) = ScoreOne(Save(keras, "keras.onnx"));
        Assert.Equal(ImageLayout.Nhwc, teacher.InputLayout);
        Assert.False(teacher.LayoutWasAmbiguous);
        Assert.Equal(TeacherOutputKind.Probabilities, teacher.OutputKind);
        Assert.Equal("input_1:0", teacher.InputName);
        Assert.Equal(9, teacher.Opset);
        AssertClose(LogSoftmax(Reference(model), Classes), logits);
    }

    [Fact]
    public void A_binary_teachers_one_logit_or_sigmoid_is_scored_as_two_classes_here_and_in_the_merged_model()
    {
        var model = TeacherVariants.Base(classes: 1, seed: 4);
        var sigmoid = model.Clone();
        sigmoid.Graph.Node.Add(new NodeProto { OpType = "Sigmoid", Name = "sigmoid", Input = { "logits" }, Output = { "probability" } });
        var output = sigmoid.Graph.Output.Single(o => o.Name == "logits").Clone();
        output.Name = "probability";
        sigmoid.Graph.Output.Clear();
        sigmoid.Graph.Output.Add(output);
        var z = Reference(model);
        var expected = z.SelectMany(v => new[] { 0f, v }).ToArray();

        var (logits, teacher) = ScoreOne(Save(model, "one-logit.onnx"));
        Assert.True(teacher.SingleOutput);
        Assert.Equal((2, TeacherOutputKind.Logits), (teacher.ClassCount, teacher.OutputKind));
        AssertClose(expected, logits);
        var (fromSigmoid, sigmoidTeacher) = ScoreOne(Save(sigmoid, "sigmoid.onnx"));
        Assert.Equal(TeacherOutputKind.Probabilities, sigmoidTeacher.OutputKind); // the log-odds of σ(z) are z again
        AssertClose(expected, fromSigmoid, 1e-3);

        // Merged into one model, both give what the scorer gives.
        using var session = new InferenceSession(OnnxEnsemble.Merge([Save(model, "a.onnx"), Save(sigmoid, "b.onnx")], new OnnxEnsembleOptions { Fusion = null }));
        using var input = OrtValue.CreateTensorValueFromMemory(images.AsSpan(0, Rows * ImageSize).ToArray(), [Rows, Channels, Size, Size]);
        using var outputs = session.Run(new RunOptions(), ["input"], [input], ["teacher_logits"]);
        var merged = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        AssertClose(Enumerable.Range(0, Rows).SelectMany(i => expected.Skip(2 * i).Take(2).Concat(fromSigmoid.Skip(2 * i).Take(2))).ToArray(), merged, 1e-3);
    }

    [Fact]
    public void Specialists_are_scored_as_one_teacher_of_every_class_by_the_unified_rule()
    {
        // A 4-class task: specialist A knows {0, 1}, B {1, 3, 2} (three outputs and four, each with "other"). Random
        // weights (synthetic), which is all the rule needs.
        var a = TeacherVariants.Base(classes: 3, seed: 2);
        var b = TeacherVariants.Base(classes: 4, seed: 3);
        a.MetadataProps.Add(new StringStringEntryProto { Key = SpecialistClasses.MetadataKey, Value = """{"classes":[0,1],"class_count":4}""" });
        b.MetadataProps.Add(new StringStringEntryProto { Key = SpecialistClasses.MetadataKey, Value = """{"classes":[1,3,2],"class_count":4}""" });
        var (logits, scorer) = Score(new TeacherScoringEstimator.Options { Teachers = [Save(a, "a.onnx"), Save(b, "b.onnx")] });
        using (scorer)
        {
            Assert.Equal((1, 4), (scorer.TeacherCount, scorer.ClassCount));
            Assert.Equal(["0,1", "1,3,2"], scorer.TeacherDescriptions.Select(d => d.Specialist!.ToString()));
        }
        var pa = LogSoftmax(Reference(a), 3).Select(v => Math.Exp(v)).ToArray();
        var pb = LogSoftmax(Reference(b), 4).Select(v => Math.Exp(v)).ToArray();
        var expected = new float[Rows * 4];
        for (int i = 0; i < Rows; i++)
        {
            expected[i * 4 + 0] = (float)Math.Log(pa[i * 3 + 0]);                         // A alone
            expected[i * 4 + 1] = (float)Math.Log((pa[i * 3 + 1] + pb[i * 4 + 0]) / 2);  // both
            expected[i * 4 + 2] = (float)Math.Log(pb[i * 4 + 2]);                         // B's third output
            expected[i * 4 + 3] = (float)Math.Log(pb[i * 4 + 1]);                         // B's second
        }
        AssertClose(expected, logits);
    }

    [Fact]
    public void A_pytorch_teacher_with_a_softmax_output_gives_log_probabilities()
    {
        var model = TeacherVariants.Base();
        var (logits, teacher) = ScoreOne(Save(model.Outputs("probabilities"), "softmax.onnx"));
        Assert.Equal(ImageLayout.Nchw, teacher.InputLayout);
        Assert.Equal(TeacherOutputKind.Probabilities, teacher.OutputKind);
        AssertClose(LogSoftmax(Reference(model), Classes), logits);
    }

    [Fact]
    public void The_probability_conversion_can_be_overridden()
    {
        var model = TeacherVariants.Base();
        var (logits, teacher) = ScoreOne(TeacherModel.FromFile(Save(model.Outputs("probabilities"), "softmax.onnx")) with { OutputKind = TeacherOutputKind.Logits });
        Assert.Equal(TeacherOutputKind.Logits, teacher.OutputKind);
        Assert.All(logits, v => Assert.InRange(v, 0f, 1f)); // the raw probabilities, as asked
    }

    [Fact]
    public void An_opset_7_model_with_initializers_listed_as_inputs_is_scored()
    {
        var model = TeacherVariants.Base();
        var (logits, teacher) = ScoreOne(Save(model.Outputs("logits").Opset(7, irVersion: 3), "opset7.onnx"));
        Assert.Equal(7, teacher.Opset);
        Assert.Equal("input", teacher.InputName);
        AssertClose(Reference(model), logits);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)] // 37 rows: the last call is padded
    public void Teachers_with_a_fixed_batch_size_are_run_in_batches_of_that_size(int batch)
    {
        var model = TeacherVariants.Base();
        var (logits, teacher) = ScoreOne(Save(model.FixedBatch(batch), $"batch{batch}.onnx"));
        Assert.Equal(batch, teacher.FixedBatchSize);
        AssertClose(Reference(model), logits);
    }

    [Fact]
    public void With_several_outputs_the_named_one_is_used()
    {
        var model = TeacherVariants.Base();
        var path = Save(model.RenameOutput("logits", "scores").WithFeatureOutput("layers.3.output", 64), "multi.onnx");
        var (_, byDefault) = ScoreOne(path);
        Assert.Equal("features", byDefault.OutputName); // no "logits": the first [batch, k] output
        var (logits, named) = ScoreOne(TeacherModel.FromFile(path) with { OutputName = "scores" });
        Assert.Equal("scores", named.OutputName);
        AssertClose(Reference(model), logits);

        var ex = Assert.Throws<ArgumentException>(() => ScoreOne(TeacherModel.FromFile(path) with { OutputName = "logits" }));
        Assert.Contains("multi.onnx", ex.Message);
        Assert.Contains("features, scores, probabilities", ex.Message);
    }

    [Fact]
    public void An_ambiguous_layout_is_reported_and_can_be_overridden()
    {
        // 4 channels of 4×4: [4, 4, 4] fits either layout.
        var model = TeacherVariants.Base(channels: 4, size: 4);
        var path = Save(model.ChannelsLast(), "square.onnx");
        var expected = Reference(model, channels: 4, size: 4);
        var data = Data(imageSize: 64);

        var (guessed, scorer) = Score(new TeacherScoringEstimator.Options { Teachers = [path] }, data);
        using (scorer)
        {
            Assert.True(scorer.TeacherDescriptions[0].LayoutWasAmbiguous);
            Assert.Equal(ImageLayout.Nchw, scorer.TeacherDescriptions[0].InputLayout);
        }
        Assert.True(expected.Zip(guessed, (a, b) => Math.Abs(a - b)).Max() > 1e-3, "a wrong layout guess should change the scores");

        var (overridden, fixedScorer) = Score(new TeacherScoringEstimator.Options
        {
            Teachers = [TeacherModel.FromFile(path) with { InputLayout = TeacherInputLayout.Nhwc }],
        }, data);
        fixedScorer.Dispose();
        AssertClose(expected, overridden);
    }

    [Fact]
    public void Teachers_come_from_streams_and_bytes_too()
    {
        var model = TeacherVariants.Base();
        var (logits, scorer) = Score(new TeacherScoringEstimator.Options
        {
            Teachers = [TeacherModel.FromStream(new MemoryStream(model.Bytes()), "from-stream"), TeacherModel.FromBytes(model.Bytes(), "from-bytes")],
        });
        using (scorer)
            Assert.Equal(["from-stream", "from-bytes"], scorer.TeacherDescriptions.Select(t => t.Name));
        var reference = Reference(model);
        var first = Enumerable.Range(0, Rows).SelectMany(r => logits.AsSpan(r * 2 * Classes, Classes).ToArray()).ToArray();
        AssertClose(reference, first);
    }

    [Fact]
    public void Thread_settings_and_an_unavailable_gpu_fall_back_to_the_cpu()
    {
        var model = TeacherVariants.Base();
        var path = Save(model, "teacher.onnx");
        var (logits, scorer) = Score(new TeacherScoringEstimator.Options { Teachers = [path], IntraOpThreads = 1, InterOpThreads = 1, GpuDeviceId = 0, FallbackToCpu = true });
        using (scorer)
            Assert.StartsWith("CPU (CUDA device 0 unavailable", scorer.TeacherDescriptions[0].ExecutionProvider);
        AssertClose(Reference(model), logits);

        // MLContext.FallbackToCpu is false unless set, as for ML.NET's own ONNX transforms: the request fails, naming the teacher.
        var ex = Assert.Throws<InvalidOperationException>(() => Score(new TeacherScoringEstimator.Options { Teachers = [path], GpuDeviceId = 0 }));
        Assert.Contains("teacher.onnx", ex.Message);

        // With nothing in the options, the MLContext's settings apply.
        ml.GpuDeviceId = 0;
        ml.FallbackToCpu = true;
        try
        {
            var (_, fromContext) = Score(new TeacherScoringEstimator.Options { Teachers = [path] });
            using (fromContext)
                Assert.StartsWith("CPU (CUDA device 0 unavailable", fromContext.TeacherDescriptions[0].ExecutionProvider);
            // The options win over the context.
            Assert.Throws<InvalidOperationException>(() => Score(new TeacherScoringEstimator.Options { Teachers = [path], FallbackToCpu = false }));
            var (_, onCpu) = Score(new TeacherScoringEstimator.Options { Teachers = [path], GpuDeviceId = null });
            using (onCpu)
                Assert.StartsWith("CPU (CUDA", onCpu.TeacherDescriptions[0].ExecutionProvider); // null defers to the context's device 0
        }
        finally
        {
            (ml.GpuDeviceId, ml.FallbackToCpu) = (null, false);
        }
        Assert.Contains("GPU device 0", ex.Message);
    }

    [Fact]
    public void Teachers_that_disagree_are_refused_naming_the_file()
    {
        var five = Save(TeacherVariants.Base(classes: 5), "five.onnx");
        var four = Save(TeacherVariants.Base(classes: 4, seed: 2), "four.onnx");
        var small = Save(TeacherVariants.Base(size: 6), "small.onnx");

        var ex = Assert.Throws<InvalidDataException>(() => Score(new TeacherScoringEstimator.Options { Teachers = [five, four] }));
        Assert.Contains("four.onnx", ex.Message);
        Assert.Contains("4 classes; expected 5", ex.Message);

        ex = Assert.Throws<InvalidDataException>(() => Score(new TeacherScoringEstimator.Options { Teachers = [five, small] }));
        Assert.Contains("small.onnx", ex.Message);
        Assert.Contains("108 input values; expected 192", ex.Message);
    }

    [Fact]
    public void A_teacher_with_external_weights_loads_them_from_beside_the_model_never_from_the_working_directory()
    {
        // The model's folder holds weights.bin; the working directory holds a same-named file of other weights, which
        // ONNX Runtime would read for a model loaded from bytes.
        var model = TeacherVariants.Base();
        var (external, weights) = model.ExternalData("weights.bin");
        var modelFolder = Directory.CreateDirectory(Path.Combine(directory, "model")).FullName;
        var path = Path.Combine(modelFolder, "teacher.onnx");
        File.WriteAllBytes(path, external.Bytes());
        File.WriteAllBytes(Path.Combine(modelFolder, "weights.bin"), weights);
        var decoy = Directory.CreateDirectory(Path.Combine(directory, "cwd")).FullName;
        File.WriteAllBytes(Path.Combine(decoy, "weights.bin"), TeacherVariants.Base(seed: 9).ExternalData("weights.bin").Weights);
        var working = Environment.CurrentDirectory;
        Environment.CurrentDirectory = decoy;
        try
        {
            var (logits, _) = ScoreOne(path);
            AssertClose(Reference(model), logits);
        }
        finally
        {
            Environment.CurrentDirectory = working;
        }

        // A model given as bytes has no folder: refused, naming the teacher and the file it wants.
        var fromBytes = Assert.Throws<InvalidDataException>(() => ScoreOne(TeacherModel.FromBytes(external.Bytes(), "in-memory")));
        Assert.Contains("in-memory", fromBytes.Message);
        Assert.Contains("weights.bin", fromBytes.Message);

        // Weights outside the model's folder (a parent folder, an absolute path) are refused; a missing file is named.
        foreach (var location in new[] { "../weights.bin", Path.Combine(decoy, "weights.bin") })
        {
            var outside = Path.Combine(modelFolder, "outside.onnx");
            File.WriteAllBytes(outside, model.ExternalData(location).Model.Bytes());
            var ex = Assert.Throws<InvalidDataException>(() => ScoreOne(outside));
            Assert.Contains("outside.onnx", ex.Message);
            Assert.Contains("outside the model's folder", ex.Message);
        }
        var missing = Path.Combine(modelFolder, "missing.onnx");
        File.WriteAllBytes(missing, model.ExternalData("gone.bin").Model.Bytes());
        var notFound = Assert.Throws<FileNotFoundException>(() => ScoreOne(missing));
        Assert.Contains("gone.bin", notFound.Message);
    }

    [Fact]
    public void Files_that_are_not_onnx_models_are_refused_naming_the_file()
    {
        var text = Path.Combine(directory, "notes.onnx");
        File.WriteAllText(text, "this is a text file, not a model");
        var truncated = Path.Combine(directory, "truncated.onnx");
        var bytes = TeacherVariants.Base().Bytes();
        File.WriteAllBytes(truncated, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        var missing = Path.Combine(directory, "missing.onnx");

        foreach (var path in new[] { text, truncated })
        {
            var ex = Assert.Throws<InvalidDataException>(() => ScoreOne(path));
            Assert.Contains(Path.GetFileName(path), ex.Message);
            Assert.Contains("ONNX", ex.Message);
        }
        var notFound = Assert.Throws<FileNotFoundException>(() => ScoreOne(missing));
        Assert.Contains("missing.onnx", notFound.Message);
    }

    [Fact]
    public void A_features_column_of_the_wrong_size_is_refused_naming_the_column()
    {
        var path = Save(TeacherVariants.Base(), "teacher.onnx");
        var ex = Assert.Throws<ArgumentException>(() => Score(new TeacherScoringEstimator.Options { Teachers = [path] }, Data(imageSize: 100)));
        Assert.Contains("'Features'", ex.Message);
        Assert.Contains("192", ex.Message);
    }
}
