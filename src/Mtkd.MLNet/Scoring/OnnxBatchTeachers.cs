using Mtkd.Training.Distillation;
using static TorchSharp.torch;

namespace Mtkd.MLNet.Scoring;

/// <summary>
/// Fitted scorers' ONNX teachers as a distillation job's teachers: scored once over the training images or the pool
/// of views, or on each training batch (consistent teaching). With a second scorer over the teachers' feature output,
/// they also give features (supernet2, hint learning). Owns the scorers when <paramref name="owns"/> says so.
/// </summary>
internal sealed class OnnxBatchTeachers(TeacherScoringTransformer scorer, TeacherScoringTransformer? featureScorer = null, bool owns = false)
    : IBatchTeachers, IDisposable
{
    public int TeacherCount => scorer.TeacherCount;

    public int ClassCount => scorer.ClassCount;

    /// <summary>The models' content hashes, so a checkpoint resumed with other teacher files is refused.</summary>
    public string Identity => "onnx " + string.Join(",", scorer.Teachers.Select(t => t.ModelHash));

    public int FeatureWidth => featureScorer is null ? 0 : featureScorer.TeacherCount * featureScorer.ClassCount;

    public Tensor Score(Tensor images) => Run(scorer, images);

    public Tensor ScoreFeatures(Tensor images) =>
        featureScorer is null ? throw new NotSupportedException("These teachers were loaded without a features output.") : Run(featureScorer, images).flatten(1);

    private static Tensor Run(TeacherScoringTransformer scorer, Tensor images)
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

    public void Dispose()
    {
        if (!owns) return;
        scorer.Dispose();
        featureScorer?.Dispose();
    }
}
