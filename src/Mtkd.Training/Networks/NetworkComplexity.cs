namespace Mtkd.Training.Networks;

/// <summary>Size and cost of a network for one input image: trainable parameters and multiply-accumulates.</summary>
public readonly record struct NetworkComplexity(long Parameters, long MultiplyAccumulates)
{
    /// <summary>
    /// Counts a spec analytically, each layer by its own rule (<see cref="LayerSpec"/>): MACs cover convolutions and
    /// linear layers (one per weight use); batch norm, activations and pooling are counted as free, as is usual.
    /// Parameters exclude batch-norm running statistics. <paramref name="heads"/> &gt; 1 replicates the final layer
    /// (mimic_all students).
    /// </summary>
    public static NetworkComplexity Of(NetworkSpec spec, int channels, int height, int width, int classCount, int heads = 1)
    {
        var shapes = spec.InferShapes(channels, height, width, classCount);
        long parameters = 0, macs = 0;
        for (int i = 0; i < spec.Layers.Count; i++)
        {
            var cost = spec.Layers[i].Cost(shapes[i], shapes[i + 1]);
            int replicas = i == spec.Layers.Count - 1 ? heads : 1;
            parameters += replicas * cost.Parameters;
            macs += replicas * cost.MultiplyAccumulates;
        }
        return new NetworkComplexity(parameters, macs);
    }
}
