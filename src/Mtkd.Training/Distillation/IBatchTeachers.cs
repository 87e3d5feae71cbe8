using Mtkd.Training.Networks;
using static TorchSharp.torch;

namespace Mtkd.Training.Distillation;

/// <summary>
/// Teachers asked during training, on the very batch the student sees (after augmentation): "consistent"
/// teaching (Beyer et al. 2022), where offline soft labels would describe other, unaugmented views.
/// </summary>
public interface IBatchTeachers
{
    int TeacherCount { get; }

    /// <summary>
    /// What identifies these teachers in a checkpoint's fingerprint, so a run resumed with other teachers is refused
    /// (for example a hash of the model files). Default: the type's name, which tells only the kind apart.
    /// </summary>
    string Identity => GetType().Name;

    /// <summary>Teacher logits [B, K, C] for images [B, C, H, W], without gradients.</summary>
    Tensor Score(Tensor images);

    /// <summary>Values per image of <see cref="ScoreFeatures"/>; 0 when these teachers give no features. Default 0.</summary>
    int FeatureWidth => 0;

    /// <summary>The teachers' intermediate features [B, F] for images [B, C, H, W], concatenated teacher by teacher, without gradients.</summary>
    Tensor ScoreFeatures(Tensor images) => throw new NotSupportedException($"{Identity} gives no features.");
}

/// <summary>TorchSharp teachers (for example Mtkd's own, before export) as <see cref="IBatchTeachers"/>; the caller keeps ownership of the networks.</summary>
public sealed class NetworkTeachers(IReadOnlyList<SequentialNetwork> networks) : IBatchTeachers
{
    public int TeacherCount => networks.Count;

    /// <summary>The input of each network's final layer (its penultimate features, what Mtkd exports as "features"), summed over teachers.</summary>
    public int FeatureWidth => networks.Sum(n => n.Shapes[^2].Size);

    public Tensor ScoreFeatures(Tensor images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var network in networks) network.eval();
        return cat(networks.Select(n => n.ForwardWithIntermediate(images, n.Spec.Layers.Count - 2).Intermediate.flatten(1)).ToArray(), 1).MoveToOuterDisposeScope();
    }

    public Tensor Score(Tensor images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var network in networks) network.eval();
        return stack(networks.Select(n => n.forward(images)).ToArray(), 1).MoveToOuterDisposeScope();
    }
}
