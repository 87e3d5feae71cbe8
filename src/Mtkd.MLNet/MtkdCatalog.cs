using Microsoft.ML;
using Mtkd.MLNet.Distillation;
using Mtkd.MLNet.Fusion;
using Mtkd.MLNet.Internal;
using Mtkd.MLNet.Scoring;
using Mtkd.Training.Fusion;
using Mtkd.Training.Teachers;
using Mtkd.Training.Data;

namespace Mtkd.MLNet;

/// <summary>Entry points, as extension methods on ML.NET's catalogs.</summary>
public static class MtkdCatalog
{
    /// <summary>
    /// Scores teacher ONNX models over <paramref name="inputColumnName"/> in batches and adds their logits as
    /// <paramref name="outputColumnName"/> (teacher-major, <c>teachers × classes</c> values).
    /// </summary>
    public static TeacherScoringEstimator ScoreTeachers(this TransformsCatalog catalog, IEnumerable<string> teacherModelPaths,
        string outputColumnName = TeacherColumns.Logits, string inputColumnName = "Features", int batchSize = 256) =>
        catalog.ScoreTeachers(new TeacherScoringEstimator.Options
        {
            Teachers = teacherModelPaths.Select(TeacherModel.FromFile).ToArray(),
            OutputColumnName = outputColumnName,
            InputColumnName = inputColumnName,
            BatchSize = batchSize,
        });

    /// <summary>Scores teacher ONNX models in batches; see <see cref="TeacherScoringEstimator.Options"/>.</summary>
    public static TeacherScoringEstimator ScoreTeachers(this TransformsCatalog catalog, TeacherScoringEstimator.Options options) =>
        new(MlNetInternals.GetEnvironment(catalog), options);

    /// <summary>
    /// The teachers' ensemble as a model: <c>Score</c> and a key <c>PredictedLabel</c> from the teacher-logits column,
    /// combined by <paramref name="method"/>; see <see cref="TeacherFusionEstimator.Options"/>.
    /// </summary>
    public static TeacherFusionEstimator FuseTeachers(this TransformsCatalog catalog, FusionMethod method = FusionMethod.MeanProbability,
        string teacherLogitsColumnName = TeacherColumns.Logits, string labelColumnName = "Label") =>
        catalog.FuseTeachers(new TeacherFusionEstimator.Options
        {
            Method = method,
            TeacherLogitsColumnName = teacherLogitsColumnName,
            LabelColumnName = labelColumnName,
        });

    /// <summary>The teachers' ensemble as a model; see <see cref="TeacherFusionEstimator.Options"/>.</summary>
    public static TeacherFusionEstimator FuseTeachers(this TransformsCatalog catalog, TeacherFusionEstimator.Options options) =>
        new(MlNetInternals.GetEnvironment(catalog), options);

    /// <summary>Distills the teachers' logits into a compact student network; see <see cref="MultiTeacherDistillationOptions"/>.</summary>
    public static MultiTeacherDistillationTrainer MultiTeacherDistillation(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers catalog, MultiTeacherDistillationOptions? options = null) =>
        new(MlNetInternals.GetEnvironment(catalog), options ?? new MultiTeacherDistillationOptions());

    /// <summary>
    /// Distills the teachers into a compact student for a yes/no problem: a Boolean label (true the positive class),
    /// teachers with one logit or sigmoid output or two class scores, and ML.NET's binary outputs (<c>Score</c> the
    /// logit, <c>Probability</c>, a Boolean <c>PredictedLabel</c>) for <c>BinaryClassification.Evaluate</c>; the student
    /// exports with one output. See <see cref="MultiTeacherDistillationOptions"/> and <see cref="StudentTransformer.WithThreshold"/>.
    /// </summary>
    public static MultiTeacherDistillationTrainer MultiTeacherDistillation(
        this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, MultiTeacherDistillationOptions? options = null) =>
        new(MlNetInternals.GetEnvironment(catalog), options ?? new MultiTeacherDistillationOptions(), binary: true);
}
