namespace Mtkd.Cli.Commands;

/// <summary>
/// The command line's one rule for two-class data: every model it writes (teachers, students, exports) is a binary
/// classifier with one output, the logit of the second class (class_names[1]) and its sigmoid, as ML.NET's binary
/// trainers and scikit-learn give them. Read back as a teacher, such a model is the same two-class distribution.
/// </summary>
internal static class BinaryModels
{
    /// <summary>Whether models of these classes are written with one logit: exactly two classes.</summary>
    public static bool OneLogit(IReadOnlyList<string>? classNames) => classNames is { Count: 2 };
}
