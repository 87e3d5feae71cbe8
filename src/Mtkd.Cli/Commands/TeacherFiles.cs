using Mtkd.Training.Data;
using Mtkd.Training.Teachers;

namespace Mtkd.Cli.Commands;

/// <summary>Checks, before any work, that ONNX models fit the data a command reads.</summary>
internal static class TeacherFiles
{
    /// <summary>
    /// Loads the models as teachers and checks them against <paramref name="data"/> (image size, class count) and each
    /// other: a mismatch between files is a data error (exit 1) naming the model, whichever command finds it. ML.NET's
    /// own schema check would raise it later as a setting error.
    /// </summary>
    public static void CheckFit(IReadOnlyList<string> paths, ImageDataset data)
    {
        using var teachers = OnnxTeachers.Load(paths.Select(TeacherModel.FromFile).ToArray());
        teachers.CheckFits(data);
    }
}
