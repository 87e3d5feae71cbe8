using Microsoft.ML.OnnxRuntime;

namespace Mtkd.MLNet.Scoring;

/// <summary>One teacher model in ONNX Runtime, run on whole batches (ML.NET's OnnxTransformer runs one row per call).</summary>
internal sealed class OnnxTeacher : IDisposable
{
    private readonly InferenceSession session;
    private readonly RunOptions runOptions = new();
    private readonly long[] imageDimensions;
    private readonly string[] inputNames;
    private readonly string[] outputNames;

    private OnnxTeacher(string source, InferenceSession session, string inputName, long[] imageDimensions, bool batchFixedAtOne, string outputName, int classCount)
    {
        Source = source;
        this.session = session;
        this.imageDimensions = imageDimensions;
        inputNames = [inputName];
        outputNames = [outputName];
        BatchFixedAtOne = batchFixedAtOne;
        ClassCount = classCount;
        InputSize = (int)imageDimensions.Aggregate(1L, (a, b) => a * b);
    }

    public string Source { get; }
    public int InputSize { get; }
    public int ClassCount { get; }
    public bool BatchFixedAtOne { get; }

    /// <summary>Loads a teacher; the output named "logits" is used when present, else the first output.</summary>
    public static OnnxTeacher Load(string path, SessionOptions? options = null)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Teacher model not found: {path}", path);
        InferenceSession session;
        try
        {
            session = options is null ? new InferenceSession(path) : new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidDataException($"Teacher '{path}' is not a loadable ONNX model: {ex.Message}", ex);
        }
        try
        {
            if (session.InputMetadata.Count != 1)
                throw new InvalidDataException($"Teacher '{path}' has {session.InputMetadata.Count} inputs; expected one image tensor.");
            var (inputName, input) = session.InputMetadata.First();
            var dims = input.Dimensions;
            if (input.ElementType != typeof(float) || dims.Length < 2 || dims.Skip(1).Any(d => d <= 0))
                throw new InvalidDataException(
                    $"Teacher '{path}': input '{inputName}' is {input.ElementType.Name}[{string.Join(",", dims)}]; expected float32 [batch, ...] with known sizes after the batch dimension.");

            string outputName = session.OutputMetadata.ContainsKey("logits") ? "logits" : session.OutputMetadata.Keys.First();
            var outputDims = session.OutputMetadata[outputName].Dimensions;
            if (outputDims.Length != 2 || outputDims[1] <= 0)
                throw new InvalidDataException(
                    $"Teacher '{path}': output '{outputName}' has shape [{string.Join(",", outputDims)}]; expected [batch, classes] with a known class count.");
            return new OnnxTeacher(path, session, inputName, dims.Skip(1).Select(d => (long)d).ToArray(),
                batchFixedAtOne: dims[0] == 1, outputName, outputDims[1]);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Scores <paramref name="count"/> images stored back to back in <paramref name="images"/>, writing each image's
    /// logits to <paramref name="destination"/> at <c>offset + row × stride</c>.
    /// </summary>
    public void Score(float[] images, int count, float[] destination, int offset, int stride)
    {
        int rowsPerCall = BatchFixedAtOne ? 1 : count;
        for (int start = 0; start < count; start += rowsPerCall)
        {
            int n = Math.Min(rowsPerCall, count - start);
            var shape = new long[imageDimensions.Length + 1];
            shape[0] = n;
            imageDimensions.CopyTo(shape, 1);
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance,
                images.AsMemory(start * InputSize, n * InputSize), shape);
            using var outputs = session.Run(runOptions, inputNames, [input], outputNames);
            var logits = outputs[0].GetTensorDataAsSpan<float>();
            for (int row = 0; row < n; row++)
                logits.Slice(row * ClassCount, ClassCount).CopyTo(destination.AsSpan(offset + (start + row) * stride, ClassCount));
        }
    }

    public void Dispose()
    {
        runOptions.Dispose();
        session.Dispose();
    }
}
