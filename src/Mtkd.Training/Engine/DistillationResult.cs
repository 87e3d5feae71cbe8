using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;

namespace Mtkd.Training.Engine;

/// <summary>What a <see cref="DistillationJob"/> trained. Owns the students: dispose it, or take a student with <see cref="TakeStudent"/>.</summary>
public sealed class DistillationResult : IDisposable
{
    private readonly List<SequentialNetwork> students;
    private readonly int best;

    internal DistillationResult(IReadOnlyList<SequentialNetwork> students, int best, IReadOnlyList<EpochSummary> history, ImageDataset trainedOn,
        ImageDataset? validation, int teacherCount, long teacherPasses, DistillationMethod method)
    {
        this.students = [.. students];
        this.best = best;
        History = history;
        TrainedOn = trainedOn;
        Validation = validation;
        TeacherCount = teacherCount;
        TeacherPasses = teacherPasses;
        Method = method;
    }

    /// <summary>The run's student: the only one, or (students trained together) the best on validation, else the first.</summary>
    public SequentialNetwork Student => students[best];

    /// <summary>Every student the method trained, in its order (one for most methods).</summary>
    public IReadOnlyList<SequentialNetwork> Students => students;

    /// <summary>One summary per epoch run.</summary>
    public IReadOnlyList<EpochSummary> History { get; }

    /// <summary>The rows trained on: the training images (less the validation hold-out), the unlabelled ones, or the pool of views.</summary>
    public ImageDataset TrainedOn { get; }

    /// <summary>The validation images, if any.</summary>
    public ImageDataset? Validation { get; }

    /// <summary>K, the teachers the student learned from (0 for methods without teachers).</summary>
    public int TeacherCount { get; }

    /// <summary>Images the teachers scored for this run (once per image or view, or once per image per epoch online).</summary>
    public long TeacherPasses { get; }

    /// <summary>The method that trained the student(s).</summary>
    public DistillationMethod Method { get; }

    /// <summary>The best validation accuracy of any epoch, null without validation.</summary>
    public double? BestValidationAccuracy => History.Max(e => e.ValidationAccuracy);

    /// <summary>Writes <see cref="Student"/> as an ONNX model (see <see cref="OnnxExporter"/>).</summary>
    public void SaveOnnx(string path, OnnxExportOptions? options = null) => OnnxExporter.Export(Student, path, options ?? new OnnxExportOptions { ClassNames = TrainedOn.ClassNames });

    /// <summary>Hands <see cref="Student"/> to the caller, who then disposes it; the result no longer does.</summary>
    public SequentialNetwork TakeStudent()
    {
        var student = Student;
        students[best] = null!;
        return student;
    }

    public void Dispose()
    {
        foreach (var s in students) s?.Dispose();
    }
}
