using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using static TorchSharp.torch;

namespace Mtkd.Training.Engine;

/// <summary>Teachers scored once over a dataset, block by block: the columns a job trains from.</summary>
internal static class TeacherScoring
{
    /// <summary>Images per call to the teachers: ScoreTeachers' default block, so both paths score alike.</summary>
    public const int BlockSize = 256;

    /// <summary>Every image's logits, [N, K, C] row-major (the <see cref="TeacherColumns.Logits"/> layout).</summary>
    public static float[] Logits(IBatchTeachers teachers, ImageDataset data) =>
        Score(data, teachers.TeacherCount * data.ClassCount, teachers.Score);

    /// <summary>Every image's features, [N, F] row-major.</summary>
    public static float[] Features(IBatchTeachers teachers, ImageDataset data) =>
        Score(data, teachers.FeatureWidth, teachers.ScoreFeatures);

    private static float[] Score(ImageDataset data, int width, Func<Tensor, Tensor> score)
    {
        var result = new float[(long)data.Count * width];
        int batch = PixelTensors.InferenceBatch(data, BlockSize);
        var images = new PixelTensors(data, batch);
        for (int start = 0; start < data.Count; start += batch)
        {
            using var scope = NewDisposeScope();
            int n = Math.Min(batch, data.Count - start);
            var values = score(images.Read(start, n)).contiguous();
            if (values.numel() != (long)n * width)
                throw new InvalidOperationException($"The teachers gave {values.numel()} values for {n} images; expected {width} per image.");
            values.data<float>().CopyTo(result.AsSpan().Slice((int)((long)start * width), n * width));
        }
        return result;
    }
}
