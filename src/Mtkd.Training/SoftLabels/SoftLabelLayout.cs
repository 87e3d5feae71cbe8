using System.Text.RegularExpressions;

namespace Mtkd.Training.SoftLabels;

/// <summary>Works out teachers and classes from "t{t}_c{c}" column names, for files written by other tools.</summary>
internal static partial class SoftLabelLayout
{
    [GeneratedRegex(@"^t(\d+)_c(\d+)$")]
    private static partial Regex LogitColumn();

    [GeneratedRegex(@"^t(\d+)_logit$")]
    private static partial Regex BinaryLogitColumn();

    /// <summary>
    /// Teacher and class counts from the logit columns: every t{t}_c{c} in the grid, or one t{t}_logit per teacher
    /// (two classes; OneLogit true).
    /// </summary>
    public static (int Teachers, int Classes, bool OneLogit) FromColumnNames(IReadOnlyList<string> names, string source)
    {
        var binary = names.Select(n => BinaryLogitColumn().Match(n)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value)).ToArray();
        if (binary.Length > 0 && !names.Any(n => LogitColumn().IsMatch(n)))
        {
            int count = binary.Max() + 1;
            for (int t = 0; t < count; t++)
                if (!binary.Contains(t))
                    throw new InvalidDataException($"{source}: column {SoftLabelHeader.BinaryLogitName(t)} is missing; {count} two-class teachers need every t{{teacher}}_logit column.");
            return (count, 2, true);
        }
        var (teachers, classes) = Grid(names, source);
        return (teachers, classes, false);
    }

    private static (int Teachers, int Classes) Grid(IReadOnlyList<string> names, string source)
    {
        int teachers = 0, classes = 0, count = 0;
        foreach (var name in names)
        {
            var match = LogitColumn().Match(name);
            if (!match.Success) continue;
            teachers = Math.Max(teachers, int.Parse(match.Groups[1].Value) + 1);
            classes = Math.Max(classes, int.Parse(match.Groups[2].Value) + 1);
            count++;
        }
        if (count == 0)
            throw new InvalidDataException($"{source}: no soft-label columns; expected columns named t{{teacher}}_c{{class}} (t0_c0, t0_c1, …).");
        for (int t = 0; t < teachers; t++)
            for (int c = 0; c < classes; c++)
                if (!names.Contains(SoftLabelHeader.LogitName(t, c)))
                    throw new InvalidDataException($"{source}: column {SoftLabelHeader.LogitName(t, c)} is missing; {teachers} teachers × {classes} " +
                        $"classes need every t{{teacher}}_c{{class}} column.");
        return (teachers, classes);
    }

    public static string[] DefaultTeacherNames(int teachers) => Enumerable.Range(0, teachers).Select(t => $"t{t}").ToArray();
}
