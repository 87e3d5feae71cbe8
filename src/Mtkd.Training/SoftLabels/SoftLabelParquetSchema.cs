using System.Text.Json;
using Parquet.Schema;

namespace Mtkd.Training.SoftLabels;

/// <summary>
/// The Parquet layout of a soft-label dataset. Columns: <c>index</c> (int64), <c>label</c> (nullable int32),
/// then either <c>t{t}_c{c}</c> (float) for every logit (two classes: <c>t{t}_logit</c>, one per teacher, z = l₁ − l₀), or, with top-k, per teacher <c>t{t}_k{j}_class</c>
/// (int32) and <c>t{t}_k{j}_logit</c> (float) for the j-th largest logit and <c>t{t}_floor</c> (float).
/// Key-value metadata under "mtkd." names the teachers and classes, and, where known, the rows each teacher trained on
/// (<see cref="TrainingRowSet.MetadataKey"/>: a JSON array, per teacher <see cref="TrainingRowSet.Encode"/>'s text or null).
/// </summary>
internal static class SoftLabelParquetSchema
{
    public const string Format = "mtkd.soft_labels";
    public const string FormatVersion = "1";
    public const string TeachersKey = "mtkd.teachers";
    public const string ClassesKey = "mtkd.classes";
    public const string ClassNamesKey = "mtkd.class_names";
    public const string TopKKey = "mtkd.top_k";

    public static DataField Index { get; } = new DataField<long>("index");
    public static DataField Label { get; } = new DataField<int?>("label");

    public static string TopClass(int teacher, int j) => $"t{teacher}_k{j}_class";
    public static string TopLogit(int teacher, int j) => $"t{teacher}_k{j}_logit";
    public static string Floor(int teacher) => $"t{teacher}_floor";

    /// <summary>The teachers' training rows from the metadata, or null when it has none.</summary>
    public static TrainingRowSet?[]? TrainingRows(IReadOnlyDictionary<string, string> metadata, int teacherCount, string path)
    {
        if (!metadata.TryGetValue(TrainingRowSet.MetadataKey, out var json)) return null;
        string?[] texts;
        try
        {
            texts = JsonSerializer.Deserialize<string?[]>(json) ?? [];
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: metadata '{TrainingRowSet.MetadataKey}' is not a JSON array of strings ({ex.Message}).", ex);
        }
        if (texts.Length != teacherCount)
            throw new InvalidDataException($"{path}: metadata '{TrainingRowSet.MetadataKey}' lists {texts.Length} teachers; the file has {teacherCount}.");
        return texts.Select(t => t is null ? null : TrainingRowSet.Decode(t, path)).ToArray();
    }

    public static ParquetSchema Build(SoftLabelHeader header, int topK)
    {
        var fields = new List<Field> { Index, Label };
        if (topK == 0)
            return new ParquetSchema([.. fields, .. header.StoredNames(header.OneLogitPerTeacher).Select(n => new DataField<float>(n))]);
        for (int t = 0; t < header.TeacherCount; t++)
        {
            for (int j = 0; j < topK; j++)
            {
                fields.Add(new DataField<int>(TopClass(t, j)));
                fields.Add(new DataField<float>(TopLogit(t, j)));
            }
            fields.Add(new DataField<float>(Floor(t)));
        }
        return new ParquetSchema(fields);
    }

    public static Dictionary<string, string> Metadata(SoftLabelHeader header, int topK)
    {
        var metadata = new Dictionary<string, string>
        {
            [Format] = FormatVersion,
            [TeachersKey] = JsonSerializer.Serialize(header.TeacherNames),
            [ClassesKey] = header.ClassCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [TopKKey] = topK.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (header.ClassNames is { } names)
            metadata[ClassNamesKey] = JsonSerializer.Serialize(names);
        if (header.TeacherTrainingRows is { } rows && rows.Any(r => r is not null))
            metadata[TrainingRowSet.MetadataKey] = JsonSerializer.Serialize(rows.Select(r => r?.Encode()).ToArray());
        return metadata;
    }
}
