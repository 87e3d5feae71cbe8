using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Onnx;
using static TorchSharp.torch;

namespace Mtkd.Training.Teachers;

/// <summary>
/// ONNX classifiers as a distillation job's teachers, run by ONNX Runtime on whole batches: each model's layout
/// (NCHW or NHWC) and output kind (logits, or probabilities turned into log-probabilities) are detected when it is
/// loaded, and every teacher must take the same images and give the same classes. With a features output named,
/// a second session per model gives the teachers' features (for supernet2 and hint learning). ML.NET's
/// <c>ScoreTeachers</c> runs the same teachers over a data view.
/// </summary>
public sealed class OnnxTeachers : IBatchTeachers, IDisposable
{
    private readonly OnnxTeacher[] teachers;
    private readonly OnnxTeacher[] generalists;
    private readonly OnnxTeacher[] specialists;
    private readonly SpecialistClasses[] groups;
    private readonly OnnxTeacher[] featureTeachers;

    // The teachers as one ONNX Runtime session (OnnxEnsemble.Merge, the per-teacher logits as one output), when they
    // can be merged: one call per batch instead of one per teacher; their own sessions are then released.
    private OnnxTeacher? merged;
    private const string MergedOutput = "teacher_logits";

    private OnnxTeachers(OnnxTeacher[] teachers, OnnxTeacher[] featureTeachers)
    {
        this.teachers = teachers;
        this.featureTeachers = featureTeachers;
        generalists = teachers.Where(t => t.Description.Specialist is null).ToArray();
        specialists = teachers.Where(t => t.Description.Specialist is not null).ToArray();
        groups = specialists.Select(t => t.Description.Specialist!).ToArray();
        var first = (generalists.FirstOrDefault() ?? teachers[0]).Description;
        ClassCount = generalists.Length > 0 ? generalists[0].ClassCount : groups[0].ClassCount;
        foreach (var t in teachers.Concat(featureTeachers))
        {
            long values = t.Description.ImageShape.Aggregate(1L, (a, b) => a * b);
            if (values > int.MaxValue)
                throw new InvalidDataException($"Teacher '{t.Name}' declares an input of {string.Join("×", t.Description.ImageShape)} = {values:N0} values per image, " +
                    "more than an image can have here; give a model with a real image size.");
        }
        foreach (var t in teachers)
        {
            if (t.Description.Specialist is { } specialist)
            {
                if (t.ClassCount != specialist.OutputCount)
                    throw new InvalidDataException($"Teacher '{t.Name}' is a specialist of classes {specialist} (metadata {SpecialistClasses.MetadataKey}), which needs " +
                        $"{specialist.OutputCount} outputs (one per class and \"other\"); output '{t.Description.OutputName}' gives {t.ClassCount}.");
                if (specialist.ClassCount != ClassCount)
                    throw new InvalidDataException($"Teacher '{t.Name}' is a specialist of {specialist.ClassCount} classes; expected {ClassCount} like '{first.Name}'.");
            }
            else if (t.ClassCount != ClassCount)
                throw new InvalidDataException($"Teacher '{t.Name}' has {t.ClassCount} classes; expected {ClassCount} like '{first.Name}'.");
            if (t.InputSize != first.InputSize)
                throw new InvalidDataException($"Teacher '{t.Name}' takes {t.InputSize} input values; expected {first.InputSize} like '{first.Name}'.");
            if (ImageChw(t.Description) is { } chw && ImageChw(first) is { } firstChw && chw != firstChw)
                throw new InvalidDataException($"Teacher '{t.Name}' takes {chw} images (C×H×W); expected {firstChw} like '{first.Name}'.");
        }
        if (specialists.Length > 0)
            SpecialistEnsemble.CheckCoverage(groups, specialists.Select(t => t.Name).ToArray());
    }

    /// <summary>Loads the teachers on the CPU, or on CUDA device <paramref name="gpuDeviceId"/> (with the GPU build of ONNX Runtime).</summary>
    /// <param name="models">The teachers.</param>
    /// <param name="featuresOutput">The models' output holding their features (Mtkd's teachers: "features"); null for none.</param>
    /// <param name="gpuDeviceId">CUDA device; null for the CPU.</param>
    /// <param name="fallbackToCpu">Whether an unusable GPU falls back to the CPU instead of failing.</param>
    public static OnnxTeachers Load(IReadOnlyList<TeacherModel> models, string? featuresOutput = null, int? gpuDeviceId = null, bool fallbackToCpu = true) =>
        Load(models, new TeacherSessionSettings(null, null, false, gpuDeviceId, fallbackToCpu), featuresOutput);

    internal static OnnxTeachers Load(IReadOnlyList<TeacherModel> models, TeacherSessionSettings settings, string? featuresOutput = null, bool merge = true)
    {
        ArgumentNullException.ThrowIfNull(models);
        if (models.Count == 0)
            throw new ArgumentException("At least one teacher model is needed.", nameof(models));
        var loaded = new List<OnnxTeacher>();
        try
        {
            foreach (var model in models)
                loaded.Add(OnnxTeacher.Load(model, settings));
            int logits = loaded.Count;
            if (featuresOutput is not null)
                foreach (var model in models)
                    loaded.Add(OnnxTeacher.Load(model with { OutputName = featuresOutput, OutputKind = TeacherOutputKind.Logits }, settings));
            var teachers = new OnnxTeachers(loaded.Take(logits).ToArray(), loaded.Skip(logits).ToArray());
            if (merge && featuresOutput is null)
                teachers.TryMerge(models, settings);
            return teachers;
        }
        catch
        {
            loaded.ForEach(t => t.Dispose());
            throw;
        }
    }

    // Teachers of all the classes with a dynamic batch merge into one session (specialists are unified here, in C#, and
    // stay one session each); teachers that cannot be merged (other operator sets, weights in files beside the model)
    // keep theirs. The merged graph runs each teacher's own nodes, so the logits are the teachers'.
    private void TryMerge(IReadOnlyList<TeacherModel> models, TeacherSessionSettings settings)
    {
        if (generalists.Length < 2 || specialists.Length > 0 || teachers.Any(t => t.Description.FixedBatchSize is not null))
            return;
        try
        {
            var bytes = OnnxEnsemble.Merge(models, this, new OnnxEnsembleOptions { Fusion = null, TeacherLogitsName = MergedOutput }); // described by these, not loaded again
            merged = OnnxTeacher.Load(TeacherModel.FromBytes(bytes, "the teachers merged") with { OutputName = MergedOutput, OutputKind = TeacherOutputKind.Logits },
                settings);
        }
        catch (Exception ex) when (ex is InvalidDataException or NotSupportedException or ArgumentException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            return;
        }
        foreach (var t in generalists) t.ReleaseSession();
    }

    /// <summary>Whether the teachers run as one merged ONNX Runtime session (two or more teachers of all the classes that can be merged).</summary>
    public bool RunAsOneSession => merged is not null;

    private static string? ImageChw(TeacherDescription t) => t.InputLayout switch
    {
        ImageLayout.Nchw => $"{t.ImageShape[0]}×{t.ImageShape[1]}×{t.ImageShape[2]}",
        ImageLayout.Nhwc => $"{t.ImageShape[2]}×{t.ImageShape[0]}×{t.ImageShape[1]}",
        _ => null,
    };

    /// <summary>
    /// Checks that the teachers fit <paramref name="data"/>: they take its images (values per image) and give one score
    /// per class of it. A mismatch is a fault of the files, not of the settings: <see cref="InvalidDataException"/>
    /// naming the teacher, what it takes or gives, and what the data has.
    /// </summary>
    public void CheckFits(ImageDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        foreach (var t in teachers)
            if (t.InputSize != data.ImageSize)
            {
                // A teacher of [batch, F] takes feature vectors; data of F×1×1 are feature vectors (a table, an MLP's input).
                string takes = t.Description.ImageShape.Count == 1 ? $"feature vectors of {t.InputSize:N0} values"
                    : $"images of {ImageChw(t.Description) ?? string.Join("×", t.Description.ImageShape)} ({t.InputSize:N0} values)";
                string has = data.IsFeatureVectors ? $"the data are feature vectors of {data.ImageSize:N0} values"
                    : $"the data's images are {data.Channels}×{data.Height}×{data.Width} ({data.ImageSize:N0} values)";
                throw new InvalidDataException($"Teacher '{t.Name}' takes {takes}; {has}. Give the data at the teachers' size (--image-size and --channels " +
                    "for image folders), or teachers made for this data.");
            }
        if (ClassCount != data.ClassCount && generalists.Length == 0)
            throw new InvalidDataException($"The specialists ({string.Join(", ", specialists.Select(t => $"'{t.Name}'"))}) are for {ClassCount} classes; the data has " +
                $"{data.ClassCount} ({Listed(data.ClassNames)}). Give specialists made for this data.");
        bool single = generalists.Length > 0 && generalists[0].Description.SingleOutput;
        if (ClassCount != data.ClassCount)
            throw new InvalidDataException($"Teacher '{generalists[0].Name}' gives {(single ? 1 : ClassCount)} {(single ? "score" : "scores")} per image (output " +
                $"'{generalists[0].Description.OutputName}'); the data has {data.ClassCount} classes ({Listed(data.ClassNames)}). A teacher must give one score per class " +
                (single ? $"(a single sigmoid output is a two-class classifier, not a {data.ClassCount}-class one)."
                    : data.ClassCount == 2 ? "of the data (for a yes/no problem: one logit or sigmoid output, or two class scores)." : "of the data, in the data's class order."));
    }

    private static string Listed(IReadOnlyList<string> names) => names.Count <= 12 ? string.Join(", ", names) : string.Join(", ", names.Take(12)) + ", …";

    /// <summary>Each model as it runs, in the order given: detected layout and output kind, class count, execution provider, specialist classes.</summary>
    public IReadOnlyList<TeacherDescription> Descriptions => teachers.Select(t => t.Description).ToArray();

    internal IReadOnlyList<OnnxTeacher> Models => teachers;

    /// <summary>
    /// The teachers as scored, one name each: every teacher of all the classes in the order given, then, when
    /// specialists are among the models, their unified ensemble as one more teacher.
    /// </summary>
    public IReadOnlyList<string> TeacherNames =>
        [.. generalists.Select(t => t.Name), .. specialists.Length > 0 ? [$"specialists ({string.Join(", ", specialists.Select(t => t.Name))})"] : Array.Empty<string>()];

    /// <summary>K: the teachers of all the classes, plus one for the specialists' unified ensemble when there are specialists.</summary>
    public int TeacherCount => generalists.Length + (specialists.Length > 0 ? 1 : 0);

    /// <summary>C, the classes every teacher gives.</summary>
    public int ClassCount { get; }

    /// <summary>Values per image each teacher takes.</summary>
    public int InputSize => teachers[0].InputSize;

    /// <summary>The models' content hashes, so a checkpoint resumed with other teacher files is refused.</summary>
    public string Identity => "onnx " + string.Join(",", teachers.Select(t => t.ModelHash));

    public int FeatureWidth => featureTeachers.Sum(t => t.ClassCount);

    /// <summary>Every image of <paramref name="data"/> scored, [N, K, C] row-major (image by image, teacher by teacher), block by block.</summary>
    public float[] Logits(ImageDataset data, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Engine.TeacherScoring.Logits(this, data, cancellation);
    }

    public Tensor Score(Tensor images)
    {
        int count = (int)images.shape[0];
        var pixels = Pixels(images, teachers);
        var values = new float[(long)count * TeacherCount * ClassCount];
        Score(pixels, count, values);
        return tensor(values, [count, TeacherCount, ClassCount], device: images.device);
    }

    public Tensor ScoreFeatures(Tensor images) =>
        featureTeachers.Length == 0 ? throw new NotSupportedException("These teachers were loaded without a features output.") : Run(featureTeachers, images);

    /// <summary>
    /// Scores <paramref name="count"/> images (NCHW, one after another) into <paramref name="destination"/>: row i,
    /// teacher k's logits at i·(K·C) + k·C. <paramref name="firstRow"/> numbers the rows in messages about bad outputs.
    /// </summary>
    internal void Score(float[] images, int count, float[] destination, long? firstRow = null)
    {
        int width = TeacherCount * ClassCount;
        if (merged is not null)
        {
            merged.Score(images, count, destination, 0, width, firstRow, column => (generalists[column / ClassCount].Name, column % ClassCount));
            return;
        }
        for (int t = 0; t < generalists.Length; t++)
            generalists[t].Score(images, count, destination, t * ClassCount, width, firstRow);
        if (specialists.Length == 0) return;
        var outputs = new float[specialists.Length][];
        for (int s = 0; s < specialists.Length; s++)
        {
            outputs[s] = new float[count * specialists[s].ClassCount];
            specialists[s].Score(images, count, outputs[s], 0, specialists[s].ClassCount, firstRow);
        }
        SpecialistEnsemble.Unify(groups, outputs, count, destination, generalists.Length * ClassCount, width);
    }

    // Every model's output for the batch, concatenated model by model per image: [B, Σ widths].
    private static Tensor Run(OnnxTeacher[] models, Tensor images)
    {
        int count = (int)images.shape[0];
        var pixels = Pixels(images, models);
        var widths = models.Select(m => m.ClassCount).ToArray();
        int width = widths.Sum();
        var values = new float[count * width];
        for (int t = 0, offset = 0; t < models.Length; offset += widths[t], t++)
            models[t].Score(pixels, count, values, offset, width);
        return tensor(values, [count, width], device: images.device);
    }

    // The batch's pixels on the CPU, after checking that they are whole images of the size the models take.
    private static float[] Pixels(Tensor images, OnnxTeacher[] models)
    {
        int count = (int)images.shape[0], imageSize = models[0].InputSize;
        if (images.numel() != (long)count * imageSize)
            throw new ArgumentException($"A batch of {count} images holds {images.numel()} values; the teachers take {imageSize} per image " +
                $"({string.Join("×", models[0].Description.ImageShape)}).", nameof(images));
        using var cpu = images.detach().cpu().contiguous();
        return cpu.data<float>().ToArray();
    }

    public void Dispose()
    {
        foreach (var t in teachers.Concat(featureTeachers)) t.Dispose();
        merged?.Dispose();
    }
}
