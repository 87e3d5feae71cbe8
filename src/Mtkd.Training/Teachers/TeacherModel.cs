namespace Mtkd.Training.Teachers;

/// <summary>How a teacher's image input is laid out; Auto guesses from the input shape.</summary>
public enum TeacherInputLayout
{
    /// <summary>Guess from the shape: channels-first when the first image dimension is the smallest, channels-last when the last one is.</summary>
    Auto,

    /// <summary>[batch, C, H, W] (PyTorch). The features are fed as they are.</summary>
    Nchw,

    /// <summary>[batch, H, W, C] (Keras, TensorFlow). Each image is transposed from the features' C×H×W order.</summary>
    Nhwc,
}

/// <summary>What a teacher's output holds; Auto looks at the graph.</summary>
public enum TeacherOutputKind
{
    /// <summary>Probabilities when the output is computed by a Softmax (looking through Identity, Reshape and the like), else logits.</summary>
    Auto,

    /// <summary>Unnormalised scores, used as they are.</summary>
    Logits,

    /// <summary>Softmax probabilities, converted to log-probabilities, which are valid logits for the same distribution.</summary>
    Probabilities,
}

/// <summary>
/// One teacher ONNX model as the user brings it: from a file, a stream or bytes, with optional overrides for
/// what automatic detection gets wrong. A string converts to <see cref="FromFile"/>.
/// </summary>
public sealed record TeacherModel
{
    private readonly Func<byte[]> read;

    private TeacherModel(string name, Func<byte[]> read, string? filePath = null)
    {
        Name = name;
        this.read = read;
        FilePath = filePath;
    }

    /// <summary>The model's file when it came from one: where its external data (weights in files beside it) is looked for.</summary>
    internal string? FilePath { get; }

    /// <summary>The file path, or the name given with a stream; used in every message about this teacher.</summary>
    public string Name { get; }

    /// <summary>
    /// The output to use. Default null: the only output; else the one named "logits"; else the first output
    /// shaped [batch, classes].
    /// </summary>
    public string? OutputName { get; init; }

    /// <summary>Input layout. Default <see cref="TeacherInputLayout.Auto"/>.</summary>
    public TeacherInputLayout InputLayout { get; init; } = TeacherInputLayout.Auto;

    /// <summary>Output kind. Default <see cref="TeacherOutputKind.Auto"/>.</summary>
    public TeacherOutputKind OutputKind { get; init; } = TeacherOutputKind.Auto;

    /// <summary>A teacher read from an ONNX file when the scorer is fitted.</summary>
    public static TeacherModel FromFile(string path) => new(path, () =>
        File.Exists(path) ? File.ReadAllBytes(path)
        : Directory.Exists(path) ? throw new FileNotFoundException($"Teacher '{path}' is a folder; give the ONNX file itself (such as {Path.Combine(path, "teacher-0.onnx")}).", path)
        : throw new FileNotFoundException($"Teacher model not found: {path}", path), path);

    /// <summary>A teacher read now from a stream (the stream is read to its end, not kept).</summary>
    public static TeacherModel FromStream(Stream stream, string name)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var bytes = copy.ToArray();
        return new(name, () => bytes);
    }

    /// <summary>A teacher from the bytes of an ONNX model.</summary>
    public static TeacherModel FromBytes(byte[] model, string name) => new(name, () => model);

    public static implicit operator TeacherModel(string path) => FromFile(path);

    internal byte[] ReadBytes() => read();
}
