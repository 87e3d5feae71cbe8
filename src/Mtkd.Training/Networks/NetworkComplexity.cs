namespace Mtkd.Training.Networks;

/// <summary>Size and cost of a network for one input image: trainable parameters and multiply-accumulates.</summary>
public readonly record struct NetworkComplexity(long Parameters, long MultiplyAccumulates)
{
    /// <summary>
    /// Counts a spec analytically. MACs cover convolutions and linear layers (one per weight use); batch norm,
    /// activations and pooling are counted as free, as is usual. Parameters exclude batch-norm running statistics.
    /// <paramref name="heads"/> &gt; 1 replicates the final linear layer (mimic_all students).
    /// </summary>
    public static NetworkComplexity Of(NetworkSpec spec, int channels, int height, int width, int classCount, int heads = 1)
    {
        var shapes = spec.InferShapes(channels, height, width, classCount);
        long parameters = 0, macs = 0;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            var (input, output) = (shapes[i], shapes[i + 1]);
            long outPixels = (long)output.Height * output.Width;
            int replicas = i == spec.Layers.Count - 1 ? heads : 1;
            switch (spec.Layers[i])
            {
                case Conv2dLayer c:
                    parameters += (long)c.OutChannels * input.Channels * c.Kernel * c.Kernel + c.OutChannels;
                    macs += outPixels * c.OutChannels * input.Channels * c.Kernel * c.Kernel;
                    break;
                case BatchNorm2dLayer:
                    parameters += 2L * input.Channels;
                    break;
                case LinearLayer:
                    parameters += replicas * ((long)input.Size * output.Channels + output.Channels);
                    macs += replicas * (long)input.Size * output.Channels;
                    break;
                case ResidualBlockLayer r:
                    long inputPixels = outPixels; // the second conv runs at the output resolution too
                    parameters += 9L * input.Channels * r.OutChannels + 9L * r.OutChannels * r.OutChannels + 4L * r.OutChannels;
                    macs += outPixels * 9 * input.Channels * r.OutChannels + inputPixels * 9 * r.OutChannels * r.OutChannels;
                    if (r.Stride != 1 || input.Channels != r.OutChannels)
                    {
                        parameters += (long)input.Channels * r.OutChannels + 2L * r.OutChannels;
                        macs += outPixels * input.Channels * r.OutChannels;
                    }
                    break;
                case DepthwiseSeparableLayer d:
                    parameters += 9L * input.Channels + 2L * input.Channels + (long)input.Channels * d.OutChannels + 2L * d.OutChannels;
                    macs += outPixels * 9 * input.Channels + outPixels * input.Channels * d.OutChannels;
                    break;
            }
        }
        return new NetworkComplexity(parameters, macs);
    }
}
