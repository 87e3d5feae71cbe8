using Mtkd.Training.Data;
using Mtkd.Training.Distillation;

namespace Mtkd.Training.Engine;

/// <summary>Teachers scored once over a dataset, block by block: the columns a job trains from.</summary>
internal static class TeacherScoring
{
    /// <summary>Images per call to the teachers: ScoreTeachers' default block, so both paths score alike.</summary>
    public const int BlockSize = 256;

    /// <summary>Every image's logits, [N, K, C] row-major (the <see cref="TeacherColumns.Logits"/> layout).</summary>
    public static float[] Logits(IBatchTeachers teachers, ImageDataset data, CancellationToken cancellation = default) =>
        PixelTensors.Outputs(data, BlockSize, teachers.TeacherCount * data.ClassCount, teachers.Score, cancellation);

    /// <summary>Every image's features, [N, F] row-major.</summary>
    public static float[] Features(IBatchTeachers teachers, ImageDataset data, CancellationToken cancellation = default) =>
        PixelTensors.Outputs(data, BlockSize, teachers.FeatureWidth, teachers.ScoreFeatures, cancellation);
}
