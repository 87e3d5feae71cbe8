using Mtkd.Training.Distillation;
using static TorchSharp.torch;

namespace Mtkd.MLNet.Scoring;

/// <summary>A fitted scorer's ONNX teachers, asked on each training batch (consistent teaching); the scorer keeps ownership of the sessions.</summary>
internal sealed class OnnxBatchTeachers(TeacherScoringTransformer scorer) : IBatchTeachers
{
    public int TeacherCount => scorer.TeacherCount;

    /// <summary>The models' content hashes, so a checkpoint resumed with other teacher files is refused.</summary>
    public string Identity => "onnx " + string.Join(",", scorer.Teachers.Select(t => t.ModelHash));

    public Tensor Score(Tensor images)
    {
        int count = (int)images.shape[0], classes = scorer.ClassCount, width = scorer.TeacherCount * classes;
        int imageSize = scorer.Teachers[0].InputSize;
        if (images.numel() != (long)count * imageSize)
            throw new ArgumentException($"A batch of {count} images holds {images.numel()} values; the teachers take {imageSize} per image.", nameof(images));
        using var cpu = images.detach().cpu().contiguous();
        var pixels = cpu.data<float>().ToArray();
        var logits = new float[count * width];
        for (int t = 0; t < scorer.TeacherCount; t++)
            scorer.Teachers[t].Score(pixels, count, logits, t * classes, width);
        return tensor(logits, [count, scorer.TeacherCount, classes], device: images.device);
    }
}
