using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Mtkd.MLNet.Internal;

/// <summary>Reads a key-typed label column's classes, as the trainer and the in-memory image reader both need them.</summary>
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
}
