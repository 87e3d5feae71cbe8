using Microsoft.ML.OnnxRuntime;
using Mtkd.Training.Onnx;

namespace Mtkd.Training.Teachers;

/// <summary>ONNX Runtime settings shared by every teacher of one scorer.</summary>
internal sealed record TeacherSessionSettings(int? IntraOpThreads, int? InterOpThreads, bool AllowSpinning, int? GpuDeviceId, bool FallbackToCpu)
{
    /// <summary>The ONNX Runtime session options these settings describe (the caller disposes them).</summary>
    public SessionOptions CreateSessionOptions()
    {
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (IntraOpThreads is { } intra) options.IntraOpNumThreads = intra;
        if (InterOpThreads is { } inter) options.InterOpNumThreads = inter;
        if (!AllowSpinning)
        {
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            options.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        }
        return options;
    }
}

/// <summary>One teacher model in ONNX Runtime, run on whole batches (ML.NET's OnnxTransformer runs one row per call).</summary>
internal sealed class OnnxTeacher : IDisposable
{
    // Log-probability given to a probability of exactly 0, so converted outputs stay finite.
    private const float MinimumProbability = 1e-30f;

    private InferenceSession? session;
    private readonly RunOptions runOptions = new();
    private readonly long[] imageShape;
    private readonly string[] inputNames;
    private readonly string[] outputNames;
    private float[] transposed = [];

    private OnnxTeacher(InferenceSession session, TeacherDescription description, string modelHash)
    {
        this.session = session;
        ModelHash = modelHash;
        Description = description;
        imageShape = description.ImageShape.ToArray();
        inputNames = [description.InputName];
        outputNames = [description.OutputName];
    }

    public TeacherDescription Description { get; }
    public string Name => Description.Name;

    /// <summary>The first 16 hex digits of the model bytes' SHA-256: which model this is, whatever its file is called.</summary>
    public string ModelHash { get; }
    public int InputSize => Description.InputSize;
    public int ClassCount => Description.ClassCount;

    public static OnnxTeacher Load(TeacherModel model, TeacherSessionSettings settings)
    {
        var bytes = model.ReadBytes();
        var info = OnnxModelInfo.Read(bytes, model.Name);
        using var options = settings.CreateSessionOptions();
        var (device, provider) = CudaProvider.Resolve(settings.GpuDeviceId, settings.FallbackToCpu, $"Teacher '{model.Name}'");
        if (device is { } cuda)
            options.AppendExecutionProvider_CUDA(cuda);

        // Weights in files beside the model (external data) resolve from the model's own path, never the working
        // directory, and only inside the model's folder; a model given as bytes has no folder to look in.
        var external = info.ExternalDataFiles.Count == 0 ? []
            : model.FilePath is { } path ? info.ResolveExternalData(path)
            : throw new InvalidDataException($"Teacher '{model.Name}' keeps its weights in files outside the model ({string.Join(", ", info.ExternalDataFiles)}); " +
                "load it with TeacherModel.FromFile so that they are found beside it.");
        InferenceSession session;
        try
        {
            session = external.Count > 0 ? new InferenceSession(model.FilePath!, options) : new InferenceSession(bytes, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidDataException($"Teacher '{model.Name}' is not a loadable ONNX model: {ex.Message}", ex);
        }
        try
        {
            return new OnnxTeacher(session, Describe(model, info, session, provider), Hash(bytes, external));
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    // The model's bytes and its external weights: a teacher whose weights file changed is another teacher.
    private static string Hash(byte[] model, IReadOnlyList<string> external)
    {
        if (external.Count == 0)
            return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(model), 0, 8).ToLowerInvariant();
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        hash.AppendData(model);
        var buffer = new byte[1 << 20];
        foreach (var file in external)
        {
            using var stream = File.OpenRead(file);
            for (int n; (n = stream.Read(buffer)) > 0;) hash.AppendData(buffer, 0, n);
        }
        return Convert.ToHexString(hash.GetHashAndReset(), 0, 8).ToLowerInvariant();
    }

    private static TeacherDescription Describe(TeacherModel model, OnnxModelInfo info, InferenceSession session, string provider)
    {
        string name = model.Name;
        if (session.InputMetadata.Count != 1)
            throw new InvalidDataException(
                $"Teacher '{name}' has {session.InputMetadata.Count} inputs ({string.Join(", ", session.InputMetadata.Keys)}); expected one image tensor.");
        var (inputName, input) = session.InputMetadata.First();
        var dims = input.Dimensions;
        if (input.ElementType != typeof(float) || dims.Length < 2 || dims.Skip(1).Any(d => d <= 0))
            throw new InvalidDataException(
                $"Teacher '{name}': input '{inputName}' is {input.ElementType.Name}[{string.Join(",", dims)}]; expected float32 [batch, ...] with known sizes after the batch dimension.");
        long[] imageShape = dims.Skip(1).Select(d => (long)d).ToArray();

        var guess = ImageLayoutGuess.FromShape(imageShape);
        var layout = model.InputLayout switch
        {
            TeacherInputLayout.Auto => guess.Layout,
            _ when imageShape.Length != 3 => throw new ArgumentException(
                $"Teacher '{name}': InputLayout {model.InputLayout} needs a [batch, ·, ·, ·] image input, but '{inputName}' is [{string.Join(",", dims)}]."),
            TeacherInputLayout.Nhwc => ImageLayout.Nhwc,
            _ => ImageLayout.Nchw,
        };

        string outputName = ChooseOutput(model, session);
        var outputDims = session.OutputMetadata[outputName].Dimensions;
        if (session.OutputMetadata[outputName].ElementType != typeof(float) || outputDims.Length != 2 || outputDims[1] <= 0)
            throw new InvalidDataException(
                $"Teacher '{name}': output '{outputName}' is {session.OutputMetadata[outputName].ElementType.Name}[{string.Join(",", outputDims)}]; " +
                    $"expected float32 [batch, classes] with a known class count.");
        // A softmax gives probabilities; so does a sigmoid on a binary classifier's one score.
        var kind = model.OutputKind != TeacherOutputKind.Auto ? model.OutputKind
            : info.IsProbabilityOutput(outputName) || (outputDims[1] == 1 && info.ProducerOf(outputName) == "Sigmoid") ? TeacherOutputKind.Probabilities
            : TeacherOutputKind.Logits;

        var specialist = SpecialistClasses.Of(info);
        // One score per image is a binary classifier's: scored as two classes.
        bool single = outputDims[1] == 1;
        return new TeacherDescription(name, inputName, imageShape, layout, model.InputLayout == TeacherInputLayout.Auto && guess.Ambiguous,
            outputName, kind, single ? 2 : outputDims[1], dims[0] > 0 ? dims[0] : null, info.Opset, provider) { Specialist = specialist, SingleOutput = single };
    }

    private static string ChooseOutput(TeacherModel model, InferenceSession session)
    {
        var outputs = session.OutputMetadata;
        if (model.OutputName is { } wanted)
            return outputs.ContainsKey(wanted) ? wanted
                : throw new ArgumentException($"Teacher '{model.Name}' has no output '{wanted}'; its outputs are: {string.Join(", ", outputs.Keys)}.");
        if (outputs.Count == 1)
            return outputs.Keys.First();
        if (outputs.ContainsKey("logits"))
            return "logits";
        return outputs.FirstOrDefault(o => o.Value.ElementType == typeof(float) && o.Value.Dimensions is [_, > 0]).Key
            ?? throw new InvalidDataException(
                $"Teacher '{model.Name}' has no float [batch, classes] output among: {string.Join(", ", outputs.Keys)}; name the output with TeacherModel.OutputName.");
    }

    /// <summary>
    /// Scores <paramref name="count"/> images stored back to back (each C×H×W) in <paramref name="images"/>,
    /// writing each image's logits to <paramref name="destination"/> at <c>offset + row × stride</c>. Refuses a
    /// non-finite output (NaN or ±∞) by teacher, row and class: soft labels from it would poison every student.
    /// </summary>
    /// <param name="images">The images, C×H×W each, back to back.</param>
    /// <param name="count">How many.</param>
    /// <param name="destination">Where the logits go.</param>
    /// <param name="offset">Where this teacher's first logit goes.</param>
    /// <param name="stride">Values between one image's logits and the next's.</param>
    /// <param name="firstRow">The row number of the first image, for the message naming a bad output; null inside a training batch.</param>
    /// <param name="owner">For a merged model: the teacher and class an output column belongs to, for those messages.</param>
    public void Score(float[] images, int count, float[] destination, int offset, int stride, long? firstRow = null, Func<int, (string Teacher, int Class)>? owner = null)
    {
        var session = this.session ?? throw new ObjectDisposedException($"Teacher '{Name}'", "Its session was released: another session scores it.");
        var source = Description.InputLayout == ImageLayout.Nhwc ? ToChannelsLast(images, count) : images;
        int fixedBatch = Description.FixedBatchSize ?? 0;
        int rowsPerCall = fixedBatch > 0 ? fixedBatch : count;
        var shape = new long[imageShape.Length + 1];
        imageShape.CopyTo(shape, 1);
        for (int start = 0; start < count; start += rowsPerCall)
        {
            int n = Math.Min(rowsPerCall, count - start);
            shape[0] = fixedBatch > 0 ? fixedBatch : n;
            var batch = n == shape[0] ? source.AsMemory(start * InputSize, n * InputSize) : Padded(source, start, n, fixedBatch);
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, batch, shape);
            using var outputs = session.Run(runOptions, inputNames, [input], outputNames);
            var logits = outputs[0].GetTensorDataAsSpan<float>();
            for (int row = 0; row < n; row++)
            {
                var target = destination.AsSpan(offset + (start + row) * stride, ClassCount);
                if (Description.SingleOutput)
                {
                    // [0, z]: z the second class's logit, or the log-odds of its sigmoid probability.
                    float v = logits[row];
                    target[0] = 0;
                    target[1] = Description.OutputKind == TeacherOutputKind.Probabilities
                        ? MathF.Log(MathF.Max(v, MinimumProbability)) - MathF.Log(MathF.Max(1 - v, MinimumProbability))
                        : v;
                }
                else
                {
                    logits.Slice(row * ClassCount, ClassCount).CopyTo(target);
                    if (Description.OutputKind == TeacherOutputKind.Probabilities)
                        foreach (ref var v in target)
                            v = MathF.Log(MathF.Max(v, MinimumProbability));
                }
                for (int c = 0; c < target.Length; c++)
                    if (!float.IsFinite(target[c]))
                    {
                        var (teacher, cls) = owner?.Invoke(c) ?? (Name, c);
                        throw new InvalidDataException($"Teacher '{teacher}' gave {target[c]} for " +
                            (firstRow is { } first ? $"row {first + start + row}" : $"image {start + row} of a training batch") +
                            $", class {cls}; a teacher's outputs must be finite numbers. The model (or that input) is broken: check it with mtkd inspect.");
                    }
            }
        }
    }

    // A model exported with a fixed batch size gets its last, short batch padded with zero images.
    private Memory<float> Padded(float[] source, int start, int n, int fixedBatch)
    {
        var padded = new float[fixedBatch * InputSize];
        source.AsSpan(start * InputSize, n * InputSize).CopyTo(padded);
        return padded;
    }

    private float[] ToChannelsLast(float[] images, int count)
    {
        int h = (int)imageShape[0], w = (int)imageShape[1], c = (int)imageShape[2];
        if (transposed.Length < count * InputSize)
            transposed = new float[images.Length];
        for (int i = 0; i < count; i++)
        {
            var from = images.AsSpan(i * InputSize, InputSize);
            var to = transposed.AsSpan(i * InputSize, InputSize);
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < h * w; p++)
                    to[p * c + ch] = from[ch * h * w + p];
        }
        return transposed;
    }

    /// <summary>Frees the session (the model's weights in memory) and keeps the description: for a teacher another session scores.</summary>
    public void ReleaseSession()
    {
        session?.Dispose();
        session = null;
    }

    public void Dispose()
    {
        runOptions.Dispose();
        session?.Dispose();
    }
}
