using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Mtkd.MLNet.Internal;

/// <summary>Reads a label column's classes (a key's, or a Boolean's two), as the trainers and the in-memory image reader need them.</summary>
internal static class KeyLabels
{
    /// <summary>
    /// The class count and names (the key values when the column has text ones, else "0", "1", ...) of a UInt32 key
    /// label; a missing or non-key column is refused by name.
    /// </summary>
    public static (int Count, string[] Names) Classes(DataViewSchema schema, string labelColumnName)
    {
        var label = schema.GetColumnOrNull(labelColumnName)
            ?? throw new ArgumentException($"Label column '{labelColumnName}' not found; it must be a key type (use MapValueToKey).");
        if (label.Type is BooleanDataViewType)
            throw new ArgumentException($"Label column '{labelColumnName}' is Boolean: a yes/no problem. Use mlContext.BinaryClassification.Trainers.MultiTeacherDistillation, " +
                $"or MapValueToKey for a key label of two classes.");
        if (label.Type is not KeyDataViewType key || key.Count is 0 or > int.MaxValue || key.RawType != typeof(uint))
            throw new ArgumentException($"Label column '{labelColumnName}' is {label.Type}; expected a UInt32 key type with a known count (use MapValueToKey).");
        int count = (int)key.Count;
        var names = Enumerable.Range(0, count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        if (label.Annotations.Schema.GetColumnOrNull("KeyValues")?.Type is VectorDataViewType { ItemType: TextDataViewType })
        {
            VBuffer<ReadOnlyMemory<char>> values = default;
            label.GetKeyValues(ref values);
            names = values.DenseValues().Select(v => v.ToString()).ToArray();
        }
        return (count, names);
    }

    /// <summary>The classes of a binary problem's Boolean label: false is class 0, true class 1; any other label type is refused by name.</summary>
    public static (int Count, string[] Names) Boolean(DataViewSchema schema, string labelColumnName)
    {
        var label = schema.GetColumnOrNull(labelColumnName)
            ?? throw new ArgumentException($"Label column '{labelColumnName}' not found; the binary trainer needs a Boolean label.");
        if (label.Type is not BooleanDataViewType)
            throw new ArgumentException($"Label column '{labelColumnName}' is {label.Type}; the binary trainer needs a Boolean label (true for the positive class)" +
                (label.Type is KeyDataViewType ? ". For a key label use mlContext.MulticlassClassification.Trainers.MultiTeacherDistillation." : "."));
        return (2, BooleanClassNames);
    }

    /// <summary>The class names of a binary student: class 0 is false, class 1 true.</summary>
    public static readonly string[] BooleanClassNames = ["False", "True"];
}
