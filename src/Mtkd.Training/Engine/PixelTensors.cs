using Mtkd.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Mtkd.Training.Engine;

/// <summary>
/// Batches of a dataset's images as N×C×H×W tensors, read from its store into one reused buffer: memory for a batch,
/// whatever the dataset's size, and no large-object-heap garbage per step (torch.tensor would clone each batch).
/// </summary>
internal sealed class PixelTensors(ImageDataset data, int batchSize)
{
    private readonly float[] buffer = new float[checked((long)Math.Max(1, batchSize) * data.ImageSize)];

    /// <summary>
    /// The images at <paramref name="indices"/> on <paramref name="device"/>. On the CPU the tensor shares the buffer,
    /// so it is valid until the next read: use it within the step (dispose scope) that read it.
    /// </summary>
    public Tensor Read(ReadOnlySpan<long> indices, Device? device = null)
    {
        data.ReadImages(indices, buffer);
        return Wrap(indices.Length, device);
    }

    /// <summary>Images <paramref name="start"/> .. <paramref name="start"/> + <paramref name="count"/> − 1, as <see cref="Read(ReadOnlySpan{long}, Device?)"/>.</summary>
    public Tensor Read(int start, int count, Device? device = null)
    {
        data.ReadImages(start, count, buffer);
        return Wrap(count, device);
    }

    /// <summary>
    /// The batch for inference passes: <paramref name="requested"/>, or fewer for large images, so a pass over
    /// photographs holds a bounded batch (4 Mi values, 16 MB of input) and its activations, not 512 photographs' worth.
    /// </summary>
    /// <summary>
    /// <paramref name="compute"/> run over every image in order, block by block (at most <paramref name="requested"/>
    /// images, see <see cref="InferenceBatch"/>), its <paramref name="width"/> values per image copied into one
    /// [N × width] array: network logits, teacher logits and features alike. Each block runs in its own dispose scope;
    /// <paramref name="cancellation"/> stops the loop before its next block.
    /// </summary>
    public static float[] Outputs(ImageDataset data, int requested, int width, Func<Tensor, Tensor> compute, CancellationToken cancellation = default)
    {
        var result = new float[(long)data.Count * width];
        int batch = InferenceBatch(data, requested);
        var images = new PixelTensors(data, batch);
        for (int start = 0; start < data.Count; start += batch)
        {
            if (cancellation.IsCancellationRequested)
                throw new OperationCanceledException($"the run stopped after {start:N0} of {data.Count:N0} images were scored; nothing of the scores was kept.", cancellation);
            using var scope = NewDisposeScope();
            int n = Math.Min(batch, data.Count - start);
            var values = compute(images.Read(start, n)).contiguous();
            if (values.numel() != (long)n * width)
                throw new InvalidOperationException($"{n} images gave {values.numel()} values; expected {width} per image.");
            values.data<float>().CopyTo(result.AsSpan().Slice((int)((long)start * width), n * width));
        }
        return result;
    }

    public static int InferenceBatch(ImageDataset data, int requested) =>
        Math.Clamp((int)Math.Min(requested, (4L << 20) / data.ImageSize), 1, Math.Max(1, requested));

    private Tensor Wrap(int count, Device? device)
    {
        if (count * (long)data.ImageSize > buffer.LongLength)
            throw new ArgumentException($"{count} images do not fit a batch of {buffer.LongLength / data.ImageSize}.");
        using var flat = from_array(buffer);
        using var used = flat.narrow(0, 0, count * (long)data.ImageSize);
        var images = used.view(count, data.Channels, data.Height, data.Width);
        if (device is null || device.type == DeviceType.CPU)
            return images;
        using (images)
            return images.to(device);
    }
}
