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
}

/// <summary>TorchSharp teachers (for example Mtkd's own, before export) as <see cref="IBatchTeachers"/>; the caller keeps ownership of the networks.</summary>
public sealed class NetworkTeachers(IReadOnlyList<SequentialNetwork> networks) : IBatchTeachers
{
    public int TeacherCount => networks.Count;

    public Tensor Score(Tensor images)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var network in networks) network.eval();
        return stack(networks.Select(n => n.forward(images)).ToArray(), 1).MoveToOuterDisposeScope();
    }
}
