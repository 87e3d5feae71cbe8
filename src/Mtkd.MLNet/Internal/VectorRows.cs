using Microsoft.ML;
using Microsoft.ML.Data;

namespace Mtkd.MLNet.Internal;

/// <summary>Gathers vector columns into flat arrays, as the readers of whole data views into memory need them.</summary>
internal static class VectorRows
{
    /// <summary>
    /// A list sized for <paramref name="valuesPerRow"/> values of every row when the view knows its length, so images
    /// are not copied again each time the list grows; refused by name when they cannot fit one array.
    /// </summary>
    public static List<float> Presized(IDataView data, long valuesPerRow, string what)
    {
        long known = (data.GetRowCount() ?? 0) * valuesPerRow;
        if (known > Array.MaxLength)
            throw new ArgumentException($"{data.GetRowCount()} rows of {valuesPerRow} {what} values are more than one array holds; use fewer or smaller images.");
        return new List<float>((int)known);
    }

    /// <summary>Writes the vector (an image) to a pixel file, densified when it is sparse.</summary>
    public static void Append(Mtkd.Training.Data.PixelFileWriter writer, in VBuffer<float> vector)
    {
        if (vector.IsDense)
            writer.Append(vector.GetValues());
        else
            writer.Append(vector.DenseValues().ToArray());
    }

    /// <summary>Appends the vector's values, densified, copying a dense vector's span at once.</summary>
    public static void Append(List<float> list, in VBuffer<float> vector)
    {
        if (vector.IsDense)
            list.AddRange(vector.GetValues());
        else
            list.AddRange(vector.DenseValues());
    }
}
