using System.Globalization;
using System.Text.Json;
using Parquet;
using Parquet.Schema;

namespace Mtkd.Training.SoftLabels;

/// <summary>Reads soft-label datasets written by <see cref="SoftLabelWriter"/>, or by pandas/Spark with the same column names.</summary>
public static class SoftLabelFile
{
    /// <summary>Reads a Parquet file, or a CSV file when the path ends in ".csv". Top-k files come back with every logit restored.</summary>
    public static SoftLabelSet Read(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"Soft-label file not found: {path}", path);
        if (SoftLabelWriter.IsCsv(path) && StartsWithParquetMagic(path))
            throw new InvalidDataException($"{path} is a Parquet file (it starts with PAR1), not CSV; give it a .parquet name.");
        return SoftLabelWriter.IsCsv(path) ? ReadCsv(path) : ReadParquet(path);
    }

    private static bool StartsWithParquetMagic(string path)
    {
        Span<byte> head = stackalloc byte[4];
        using var stream = File.OpenRead(path);
        return stream.ReadAtLeast(head, 4, throwOnEndOfStream: false) == 4 && head.SequenceEqual("PAR1"u8);
    }

    private static SoftLabelSet ReadParquet(string path)
    {
        ParquetReader reader;
        try
        {
            reader = ParquetReader.CreateAsync(path).GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException and not FileNotFoundException)
        {
            throw new InvalidDataException($"{path} is not a readable Parquet file ({ex.Message}). Soft-label files are Parquet unless their name ends in .csv.", ex);
        }
        try
        {
            var fields = reader.Schema.GetDataFields().ToDictionary(f => f.Name);
            var metadata = reader.CustomMetadata ?? new Dictionary<string, string>();
            int topK = metadata.TryGetValue(SoftLabelParquetSchema.TopKKey, out var k) ? int.Parse(k, CultureInfo.InvariantCulture) : 0;
            var (header, oneLogit) = ReadHeader(path, fields.Keys.ToArray(), metadata, topK);
            var storedNames = header.StoredNames(oneLogit);
            Require(fields, "index", path);
            Require(fields, "label", path);

            var ids = new List<long>();
            var labels = new List<int>();
            var logits = new List<float>();
            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                using var group = reader.OpenRowGroupReader(g);
                int n = checked((int)group.RowCount);
                var index = ReadColumn(group, fields["index"], n, path);
                var label = ReadColumn(group, fields["label"], n, path);
                var columns = topK == 0 ? storedNames.Select(name => ReadColumn(group, Require(fields, name, path), n, path)).ToArray() : null;
                var top = topK == 0 ? null : ReadTopK(group, fields, header, topK, n, path);
                var row = new float[header.Width];
                var stored = new float[storedNames.Length];
                for (int r = 0; r < n; r++)
                {
                    ids.Add((long)(index[r] ?? throw new InvalidDataException($"{path}: row {ids.Count} has no index.")));
                    labels.Add(label[r] is { } l ? CheckLabel(l, header, path, ids.Count - 1) : -1);
                    if (columns is not null)
                    {
                        for (int i = 0; i < stored.Length; i++)
                        {
                            stored[i] = (float)(columns[i][r] ?? throw new InvalidDataException($"{path}: row {r} of row group {g} has no value in {storedNames[i]}."));
                            if (!float.IsFinite(stored[i]))
                                throw new InvalidDataException($"{path}: row with index {ids[^1]}, column {storedNames[i]} holds " +
                                    $"{stored[i].ToString(CultureInfo.InvariantCulture)}; soft labels must be finite numbers (the teacher that wrote them is broken).");
                        }
                        SoftLabelHeader.FromStored(stored, row, oneLogit);
                    }
                    else
                        top!(r, row);
                    logits.AddRange(row);
                }
            }
            return new SoftLabelSet(header, Unique(ids.ToArray(), path), labels.ToArray(), logits.ToArray());
        }
        catch (Exception ex) when (ex is not InvalidDataException and not OutOfMemoryException)
        {
            // Parquet.Net reports a damaged page as "Invalid copy offset" and the like, naming neither file nor fix.
            throw new InvalidDataException($"{path} is damaged: reading its rows failed ({ex.Message}). Write it again with mtkd score.", ex);
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    // Soft labels are joined back to their images by index; two rows of one index would make that join ambiguous.
    private static long[] Unique(long[] ids, string path)
    {
        var first = new Dictionary<long, int>(ids.Length);
        for (int r = 0; r < ids.Length; r++)
            if (!first.TryAdd(ids[r], r))
                throw new InvalidDataException($"{path}: index {ids[r]} appears twice (data rows {first[ids[r]] + 1:N0} and {r + 1:N0}); each image needs one row, with its own index.");
        return ids;
    }

    // The header, and whether the file stores one logit per teacher (two classes) rather than one per class.
    private static (SoftLabelHeader Header, bool OneLogit) ReadHeader(string path, string[] columns, IReadOnlyDictionary<string, string> metadata, int topK)
    {
        string[]? teacherNames = metadata.TryGetValue(SoftLabelParquetSchema.TeachersKey, out var t) ? JsonSerializer.Deserialize<string[]>(t) : null;
        string[]? classNames = metadata.TryGetValue(SoftLabelParquetSchema.ClassNamesKey, out var c) ? JsonSerializer.Deserialize<string[]>(c) : null;
        if (topK > 0)
        {
            if (teacherNames is null || !metadata.TryGetValue(SoftLabelParquetSchema.ClassesKey, out var classes))
                throw new InvalidDataException($"{path}: a top-k soft-label file needs its '{SoftLabelParquetSchema.TeachersKey}' and '{SoftLabelParquetSchema.ClassesKey}' metadata.");
            return (new SoftLabelHeader(teacherNames.Length, int.Parse(classes, CultureInfo.InvariantCulture), teacherNames, classNames,
                SoftLabelParquetSchema.TrainingRows(metadata, teacherNames.Length, path)), false);
        }
        var (teachers, classCount, oneLogit) = SoftLabelLayout.FromColumnNames(columns, path);
        if (teacherNames is not null && teacherNames.Length != teachers)
            throw new InvalidDataException($"{path}: the metadata names {teacherNames.Length} teachers but the columns hold {teachers}.");
        return (new SoftLabelHeader(teachers, classCount, teacherNames ?? SoftLabelLayout.DefaultTeacherNames(teachers),
            classNames?.Length == classCount ? classNames : null, SoftLabelParquetSchema.TrainingRows(metadata, teachers, path)), oneLogit);
    }

    private static Action<int, float[]> ReadTopK(ParquetRowGroupReader group, Dictionary<string, DataField> fields, SoftLabelHeader header, int topK, int n, string path)
    {
        int teachers = header.TeacherCount, classes = header.ClassCount;
        var classColumns = new double?[teachers * topK][];
        var valueColumns = new double?[teachers * topK][];
        var floors = new double?[teachers][];
        for (int t = 0; t < teachers; t++)
        {
            for (int j = 0; j < topK; j++)
            {
                classColumns[t * topK + j] = ReadColumn(group, Require(fields, SoftLabelParquetSchema.TopClass(t, j), path), n, path);
                valueColumns[t * topK + j] = ReadColumn(group, Require(fields, SoftLabelParquetSchema.TopLogit(t, j), path), n, path);
            }
            floors[t] = ReadColumn(group, Require(fields, SoftLabelParquetSchema.Floor(t), path), n, path);
        }
        var kept = new int[topK];
        var values = new float[topK];
        return (r, row) =>
        {
            for (int t = 0; t < teachers; t++)
            {
                for (int j = 0; j < topK; j++)
                {
                    kept[j] = (int)(classColumns[t * topK + j][r] ?? -1);
                    values[j] = (float)(valueColumns[t * topK + j][r] ?? float.NaN);
                }
                TopKLogits.Restore(kept, values, (float)(floors[t][r] ?? float.NaN), row.AsSpan(t * classes, classes), path);
            }
        };
    }

    private static DataField Require(Dictionary<string, DataField> fields, string name, string path) =>
        fields.TryGetValue(name, out var field) ? field
            : throw new InvalidDataException($"{path}: column '{name}' is missing; soft-label files have index, label and t{{teacher}}_c{{class}} columns.");

    private static int CheckLabel(double label, SoftLabelHeader header, string path, long row) =>
        label == Math.Floor(label) && label >= 0 && label < header.ClassCount ? (int)label
            : throw new InvalidDataException($"{path}: row {row} has label {label}; expected a class index 0..{header.ClassCount - 1} or an empty value.");

    // Any numeric Parquet column, nullable or not, as doubles (exact for float32, int32 and ids below 2^53).
    private static double?[] ReadColumn(ParquetRowGroupReader group, DataField field, int n, string path)
    {
        var type = field.ClrType;
        if (type == typeof(float)) return Read<float>(group, field, n, v => v);
        if (type == typeof(double)) return Read<double>(group, field, n, v => v);
        if (type == typeof(int)) return Read<int>(group, field, n, v => v);
        if (type == typeof(long)) return Read<long>(group, field, n, v => v);
        if (type == typeof(short)) return Read<short>(group, field, n, v => v);
        throw new InvalidDataException($"{path}: column '{field.Name}' holds {type.Name}; expected numbers.");
    }

    private static double?[] Read<T>(ParquetRowGroupReader group, DataField field, int n, Func<T, double> convert) where T : struct
    {
        var result = new double?[n];
        if (field.IsNullable)
        {
            var values = new T?[n];
            group.ReadAsync(field, values.AsMemory()).GetAwaiter().GetResult();
            for (int i = 0; i < n; i++) result[i] = values[i] is { } v ? convert(v) : null;
        }
        else
        {
            var values = new T[n];
            group.ReadAsync(field, values.AsMemory()).GetAwaiter().GetResult();
            for (int i = 0; i < n; i++) result[i] = convert(values[i]);
        }
        return result;
    }

    private static SoftLabelSet ReadCsv(string path)
    {
        using var reader = new StreamReader(path);
        var header = reader.ReadLine() ?? throw new InvalidDataException($"{path} is empty; expected a header line index,label,t0_c0,….");
        var names = header.Split(',').Select(n => n.Trim()).ToArray();
        if (names.Length < 3 || names[0] != "index" || names[1] != "label")
            throw new InvalidDataException($"{path}: header starts '{string.Join(",", names.Take(2))}'; expected 'index,label,t0_c0,…'.");
        var (teachers, classes, oneLogit) = SoftLabelLayout.FromColumnNames(names, path);
        var layout = new SoftLabelHeader(teachers, classes, SoftLabelLayout.DefaultTeacherNames(teachers));
        var position = layout.StoredNames(oneLogit).Select(name => Array.IndexOf(names, name)).ToArray();
        var stored = new float[position.Length];
        var row = new float[layout.Width];

        var ids = new List<long>();
        var labels = new List<int>();
        var logits = new List<float>();
        int lineNumber = 1;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var cells = line.Split(',');
            if (cells.Length != names.Length)
                throw new InvalidDataException($"{path}, line {lineNumber}: {cells.Length} values; the header has {names.Length} columns.");
            ids.Add(long.TryParse(cells[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var id) ? id
                : throw new InvalidDataException($"{path}, line {lineNumber}: index '{cells[0]}' is not an integer."));
            labels.Add(cells[1].Length == 0 ? -1
                : int.TryParse(cells[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var label) && label >= 0 && label < classes ? label
                : throw new InvalidDataException($"{path}, line {lineNumber}: label '{cells[1]}' is not a class index 0..{classes - 1} or empty."));
            for (int i = 0; i < position.Length; i++)
            {
                int p = position[i];
                stored[i] = float.TryParse(cells[p], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && float.IsFinite(v) ? v
                    : throw new InvalidDataException($"{path}, line {lineNumber}: {names[p]} '{cells[p]}' is not a finite number (NaN, infinities and values beyond ±3.4e38 are refused).");
            }
            SoftLabelHeader.FromStored(stored, row, oneLogit);
            logits.AddRange(row);
        }
        if (ids.Count == 0)
            throw new InvalidDataException($"{path} has a header and no rows; expected one row of soft labels per image.");
        return new SoftLabelSet(layout, Unique(ids.ToArray(), path), labels.ToArray(), logits.ToArray());
    }
}
