using Mtkd.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Mtkd.Training.Training;

/// <summary>A dataset's pixels as one N×C×H×W tensor, for training and evaluation to take batches from as views.</summary>
internal static class PixelTensors
{
    /// <summary>
    /// On the CPU the tensor shares the dataset's array (pinned while the tensor lives) instead of copying it:
    /// torch.tensor clones the array onto the large-object heap, hundreds of megabytes of garbage per call on
    /// photographs. Read-only use only: writing to the tensor would write to the dataset.
    /// </summary>
    public static Tensor Share(ImageDataset data, Device? device = null)
    {
        using var flat = from_array(data.Pixels);
        var images = flat.view(data.Count, data.Channels, data.Height, data.Width);
        if (device is null || device.type == DeviceType.CPU)
            return images;
        using (images)
            return images.to(device);
    }
}
