using System.Text.RegularExpressions;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Mtkd.MLNet.SoftLabels;

/// <summary>Reads what a teacher-logits column and a label column say about teachers and classes.</summary>
internal static partial class SoftLabelColumns
{
    /// <summary>Annotation on a teacher-logits column naming each teacher (its file or stream name).</summary>
    public const string TeacherNamesKind = "TeacherNames";

    [GeneratedRegex(@"^t(\d+)_c\d+$")]
    private static partial Regex SlotName();

    /// <summary>The logits column, checked to be a known-size vector of Single.</summary>
    public static DataViewSchema.Column Logits(DataViewSchema schema, string name)
    {
        var column = schema.GetColumnOrNull(name)
            ?? throw new ArgumentException($"Teacher logits column '{name}' not found; add it with mlContext.Transforms.ScoreTeachers(...) or load " +
                $"soft labels with mlContext.Data.LoadSoftLabels(...).");
        if (column.Type is not VectorDataViewType { ItemType: var item, Size: > 0 } || item != NumberDataViewType.Single)
            throw new ArgumentException($"Teacher logits column '{name}' is {column.Type}; expected a known-size vector of Single (teachers × classes).");
        return column;
    }

    /// <summary>
    /// Teachers in the column: <paramref name="explicitCount"/> when given, else the TeacherNames annotation, else the
    /// t{k}_c{j} slot names, else the label's class count.
    /// </summary>
    public static int TeacherCount(DataViewSchema.Column logits, int? explicitCount, int? classCount)
    {
        int width = ((VectorDataViewType)logits.Type).Size;
        int teachers = explicitCount
            ?? TeacherNames(logits)?.Length
            ?? TeachersFromSlotNames(logits)
            ?? (classCount is > 0 && width % classCount == 0 ? width / classCount : null)
            ?? throw new ArgumentException(
                $"Cannot tell how many teachers column '{logits.Name}' holds (no TeacherNames or t{{k}}_c{{j}} slot names, no key label); set TeacherCount.");
        if (teachers < 1 || width % teachers != 0)
            throw new ArgumentException($"Column '{logits.Name}' has {width} values, which do not split into {teachers} teachers.");
        return teachers;
    }

    public static string[]? TeacherNames(DataViewSchema.Column logits)
    {
        if (logits.Annotations.Schema.GetColumnOrNull(TeacherNamesKind)?.Type is not VectorDataViewType { ItemType: TextDataViewType })
            return null;
        VBuffer<ReadOnlyMemory<char>> names = default;
        logits.Annotations.GetValue(TeacherNamesKind, ref names);
        return names.DenseValues().Select(n => n.ToString()).ToArray();
    }

    private static int? TeachersFromSlotNames(DataViewSchema.Column logits)
    {
        if (!logits.HasSlotNames())
            return null;
        VBuffer<ReadOnlyMemory<char>> names = default;
        logits.GetSlotNames(ref names);
        int teachers = 0;
        foreach (var name in names.DenseValues())
        {
            var match = SlotName().Match(name.ToString());
            if (!match.Success) return null;
            teachers = Math.Max(teachers, int.Parse(match.Groups[1].Value) + 1);
        }
        return teachers > 0 ? teachers : null;
    }

    /// <summary>The label column's class count and names when it is a key with text key values.</summary>
    public static (int? Count, string[]? Names) Classes(DataViewSchema.Column? label)
    {
        if (label?.Type is not KeyDataViewType key)
            return (null, null);
        int count = (int)key.Count;
        if (label.Value.Annotations.Schema.GetColumnOrNull("KeyValues")?.Type is not VectorDataViewType { ItemType: TextDataViewType })
            return (count, null);
        VBuffer<ReadOnlyMemory<char>> values = default;
        label.Value.GetKeyValues(ref values);
        return (count, values.DenseValues().Select(v => v.ToString()).ToArray());
    }

    /// <summary>
    /// A getter for the class index of the current row, −1 when unknown: key k → k−1 (0, the missing key, → −1);
    /// numbers must be whole class indices.
    /// </summary>
    public static Func<int> ClassIndex(DataViewRow row, DataViewSchema.Column label, int classCount)
    {
        string name = label.Name;
        int Check(double value) => double.IsNaN(value) ? -1
            : value == Math.Floor(value) && value >= 0 && value < classCount ? (int)value
            : throw new InvalidDataException($"Label column '{name}' has value {value} at row {row.Position}; expected a class index 0..{classCount - 1}.");
        switch (label.Type)
        {
            case KeyDataViewType:
                var key = row.GetGetter<uint>(label);
                return () => { uint k = 0; key(ref k); return k == 0 ? -1 : Check(k - 1); };
            case NumberDataViewType n when n.RawType == typeof(float):
                var f = row.GetGetter<float>(label);
                return () => { float v = 0; f(ref v); return Check(v); };
            case NumberDataViewType n when n.RawType == typeof(int):
                var i = row.GetGetter<int>(label);
                return () => { int v = 0; i(ref v); return Check(v); };
            case NumberDataViewType n when n.RawType == typeof(long):
                var l = row.GetGetter<long>(label);
                return () => { long v = 0; l(ref v); return Check(v); };
            case NumberDataViewType n when n.RawType == typeof(uint):
                var u = row.GetGetter<uint>(label);
                return () => { uint v = 0; u(ref v); return Check(v); };
            default:
                throw new ArgumentException($"Label column '{name}' is {label.Type}; expected a key, or Single/Int32/Int64/UInt32 class indices.");
        }
    }
}
