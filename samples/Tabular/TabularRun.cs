using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Mtkd.MLNet;
using Mtkd.MLNet.Distillation;
using Mtkd.MLNet.Scoring;
using Mtkd.MLNet.Teachers;
using Mtkd.Training;
using Mtkd.Training.Fusion;
using Mtkd.Training.Networks;
using Mtkd.Shared;
using Mtkd.Training.Teachers;

namespace Mtkd.Samples.Tabular;

/// <summary>
/// The run, as an ML.NET user would write it: LoadFromTextFile → MapValueToKey → three ML.NET trainers on the labelled
/// rows → TeacherModel.FromMlNet → ScoreTeachers/FuseTeachers (the ensemble) → MultiTeacherDistillation of an MLP with
/// the unlabelled rows → Evaluate, against the same MLP trained on the labels alone; one paired comparison per seed.
/// </summary>
public static class TabularRun
{
    private const int Features = 64;

    public static void Run(TabularSettings settings)
    {
        var clock = Stopwatch.StartNew();
        void Log(string message) => Console.WriteLine($"[{clock.Elapsed:mm\\:ss}] {message}");
        OutputChecks.Folder(settings.Out, "--out");
        string output = Path.GetFullPath(settings.Out);
        var (all, table) = ReadDigits(settings.Data, output);
        Log($"scikit-learn's handwritten digits: {all.Length} rows of {Features} pixel features (8×8, values 0–16, scaled to 0–1), read from {table}" +
            (settings.Quick ? " (quick profile)" : ""));

        // The same test rows for every seed; each seed draws its labelled rows from the rest, and the others are unlabelled.
        var order = Enumerable.Range(0, all.Length).ToArray();
        new Random(0).Shuffle(order);
        int testCount = (int)Math.Round(TabularSettings.TestFraction * all.Length);
        var test = order[..testCount].Select(i => all[i]).ToArray();
        var pool = order[testCount..].Select(i => all[i]).ToArray();
        if (settings.Labels >= pool.Length)
            throw new ArgumentException($"--labels {settings.Labels}: the training rows number {pool.Length}; label fewer, so that some stay unlabelled.");
        Log($"{test.Length} test rows; of the other {pool.Length}, {settings.Labels} labelled and {pool.Length - settings.Labels} unlabelled per seed");

        var seeds = settings.Seeds.Select(seed => RunSeed(seed, pool, test, settings, Log)).ToArray();
        var runs = seeds.Select(s => s.Result).ToArray();
        var (_, lastContext, lastStudent, lastTest) = seeds[^1];

        // The last seed's student as an ML.NET model and an ONNX file, reloaded to prove what was saved is what was measured.
        var modelPath = Path.Combine(output, "model.zip");
        AtomicFile.Write(modelPath, stream => lastContext.Model.Save(lastStudent, lastTest.Schema, stream));
        lastStudent.SaveOnnx(Path.Combine(output, "student.onnx"));
        var reloaded = new MLContext().Model.Load(modelPath, out _).Transform(lastTest).GetColumn<uint>("PredictedLabel").ToArray();
        int differing = reloaded.Zip(lastStudent.Transform(lastTest).GetColumn<uint>("PredictedLabel"), (a, b) => a != b).Count(d => d);
        if (differing > 0)
            throw new InvalidOperationException($"The reloaded model.zip predicts differently on {differing} test rows.");

        var summary = TabularReport.Summarize(runs);
        TabularReport.WriteMetrics(Path.Combine(output, "metrics.json"), settings, all.Length, test.Length, pool.Length, runs, summary, lastStudent, clock.Elapsed);
        TabularReport.WritePlot(Path.Combine(output, "accuracy.png"), settings, summary);
        Log(string.Create(CultureInfo.InvariantCulture, $"over {runs.Length} seed(s): teachers {summary.Teachers}, ensemble {summary.Ensemble}, MLP on the labels " +
            $"{summary.Baseline}, distilled MLP {summary.Student}; gain {summary.Gain} points (paired by seed)"));
        Log($"wrote metrics.json, accuracy.png, model.zip (reloaded: identical predictions) and student.onnx in {output}");
    }

    private static (SeedResult Result, MLContext Ml, StudentTransformer Student, IDataView Test) RunSeed(int seed, DigitRow[] pool, DigitRow[] test,
        TabularSettings settings, Action<string> log)
    {
        var ml = new MLContext(seed);
        var order = Enumerable.Range(0, pool.Length).ToArray();
        new Random(seed).Shuffle(order);
        // Digit k is key k + 1 whichever digits the labelled rows happen to hold.
        var toKey = ml.Transforms.Conversion.MapValueToKey("Label", nameof(DigitRow.Digit), keyOrdinality: ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Fit(ml.Data.LoadFromEnumerable(Enumerable.Range(0, 10).Select(d => new DigitRow { Features = new float[Features], Digit = d })));
        IDataView View(IEnumerable<DigitRow> rows) => toKey.Transform(ml.Data.LoadFromEnumerable(rows.ToArray()));
        var labelled = View(order[..settings.Labels].Select(i => pool[i]));
        var unlabelled = ml.Data.LoadFromEnumerable(order[settings.Labels..].Select(i => pool[i]).ToArray()); // features only are read
        var testView = View(test);

        // Teachers: three ML.NET trainers on the labelled rows, each an ONNX teacher of its own.
        var trainers = new (string Name, IEstimator<ITransformer> Trainer)[]
        {
            ("LightGbm", ml.MulticlassClassification.Trainers.LightGbm(numberOfLeaves: 16, minimumExampleCountPerLeaf: 5)),
            ("FastTree (one versus all)", ml.MulticlassClassification.Trainers.OneVersusAll(ml.BinaryClassification.Trainers.FastTree(numberOfLeaves: 8, minimumExampleCountPerLeaf: 5))),
            ("SdcaMaximumEntropy", ml.MulticlassClassification.Trainers.SdcaMaximumEntropy()),
        };
        var fitted = trainers.Select(t => (t.Name, Model: t.Trainer.Fit(labelled))).ToArray();
        var teacherAccuracy = fitted.Select(t => ml.MulticlassClassification.Evaluate(t.Model.Transform(testView)).MicroAccuracy).ToArray();
        var teachers = fitted.Select(t => TeacherModel.FromMlNet(ml, t.Model, labelled.Schema, t.Name)).ToArray();
        var scored = ml.Transforms.ScoreTeachers(new TeacherScoringEstimator.Options { Teachers = teachers }).Fit(testView).Transform(testView);
        double ensemble = ml.MulticlassClassification.Evaluate(ml.Transforms.FuseTeachers(FusionMethod.MeanProbability).Fit(scored).Transform(scored)).MicroAccuracy;

        // The student learns from the teachers on every row, labelled or not; its baseline from the labels alone.
        MultiTeacherDistillationOptions Options(bool distil) => new()
        {
            Student = NetworkPresets.MlpPreset,
            Teachers = distil ? teachers : [],
            UnlabeledData = distil ? unlabelled : null,
            Distillation = { Alpha = distil ? 0.5 : 1 },
            Trainer = { Epochs = settings.Epochs, BatchSize = 64, Seed = seed },
        };
        var student = ml.MulticlassClassification.Trainers.MultiTeacherDistillation(Options(distil: true)).Fit(labelled);
        var baseline = ml.MulticlassClassification.Trainers.MultiTeacherDistillation(Options(distil: false)).Fit(labelled);
        double studentAccuracy = ml.MulticlassClassification.Evaluate(student.Transform(testView)).MicroAccuracy;
        double baselineAccuracy = ml.MulticlassClassification.Evaluate(baseline.Transform(testView)).MicroAccuracy;
        log(string.Create(CultureInfo.InvariantCulture, $"seed {seed}: teachers {string.Join(", ", fitted.Select((t, i) => $"{t.Name} {teacherAccuracy[i]:P1}"))}; " +
            $"ensemble {ensemble:P1}; MLP on the labels {baselineAccuracy:P1}; distilled MLP {studentAccuracy:P1}"));
        return (new SeedResult(seed, fitted.Select(t => t.Name).ToArray(), teacherAccuracy, ensemble, baselineAccuracy, studentAccuracy), ml, student, testView);
    }

    // The package's digits.csv.gz, unpacked once into the output folder as the CSV that ML.NET's text loader reads.
    private static (DigitRow[] Rows, string Table) ReadDigits(string path, string output)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} is missing: install Debian's python3-sklearn (apt-get install python3-sklearn), or give --data.", path);
        var table = Path.Combine(output, "digits.csv");
        if (!File.Exists(table))
            AtomicFile.Write(table, stream =>
            {
                using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
                gzip.CopyTo(stream);
            });
        var ml = new MLContext();
        var view = ml.Data.LoadFromTextFile(table, [new TextLoader.Column("Features", DataKind.Single, 0, Features - 1), new TextLoader.Column("Digit", DataKind.Single, Features)],
            separatorChar: ',');
        var rows = ml.Data.CreateEnumerable<DigitFile>(view, reuseRowObject: false).Select((r, i) => new DigitRow
        {
            Features = r.Features.Select(v => v / 16f).ToArray(),
            Digit = r.Digit is >= 0 and <= 9 && r.Digit == Math.Floor(r.Digit) ? (int)r.Digit
                : throw new InvalidDataException($"{table} row {i + 1}: digit '{r.Digit}'; expected 0 to 9 in column {Features + 1}."),
        }).ToArray();
        if (rows.Length < 100)
            throw new InvalidDataException($"{table}: {rows.Length} rows; expected scikit-learn's 1,797 digits.");
        return (rows, table);
    }

    private sealed class DigitFile
    {
        [VectorType(64)] public float[] Features { get; set; } = [];
        public float Digit { get; set; }
    }
}

/// <summary>One row of the table: the pixel features and the digit.</summary>
public sealed class DigitRow
{
    [VectorType(64)] public float[] Features { get; set; } = [];
    public int Digit { get; set; }
}

/// <summary>One seed's test accuracies.</summary>
public sealed record SeedResult(int Seed, string[] TeacherNames, double[] Teachers, double Ensemble, double Baseline, double Student);
