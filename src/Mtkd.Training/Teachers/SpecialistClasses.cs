using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Mtkd.Training.Data;

namespace Mtkd.Training.Teachers;

/// <summary>
/// What a specialist teacher knows (Zaras, Passalis and Tefas 2021): a few of the task's classes, in the order of its
/// first outputs, and one more output, "other", for every image of a class outside them. A specialist trains on all
/// the data. Its ONNX file records its classes as metadata "mtkd.specialist", so that every consumer of teachers
/// (<see cref="OnnxTeachers"/>, and through it ML.NET's ScoreTeachers, FuseTeachers and distillation) turns a set of
/// specialists into full-class probabilities by the unified rule (<see cref="SpecialistEnsemble"/>).
/// </summary>
public sealed class SpecialistClasses
{
    /// <summary>The ONNX metadata key holding a specialist's classes.</summary>
    public const string MetadataKey = "mtkd.specialist";

    /// <summary>The name of the output that takes every class outside <see cref="Classes"/>.</summary>
    public const string OtherClassName = "other";

    /// <param name="classes">The specialist's classes: distinct indices into the task's classes, at least one and fewer than all.</param>
    /// <param name="classCount">The task's number of classes.</param>
    public SpecialistClasses(IReadOnlyList<int> classes, int classCount)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (classCount < 2)
            throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "A task for specialists has two or more classes.");
        if (classes.Count == 0 || classes.Count >= classCount)
            throw new ArgumentException($"A specialist knows one or more classes and fewer than all {classCount} (it has an \"other\" output for the rest); got {classes.Count}.", nameof(classes));
        foreach (int c in classes)
            if (c < 0 || c >= classCount)
                throw new ArgumentOutOfRangeException(nameof(classes), c, $"Class {c} is not one of the task's classes 0 to {classCount - 1}.");
        if (classes.Distinct().Count() != classes.Count)
            throw new ArgumentException($"A specialist's classes are distinct; got {string.Join(",", classes)}.", nameof(classes));
        Classes = classes.ToArray();
        ClassCount = classCount;
    }

    /// <summary>The specialist's classes, in the order of its outputs.</summary>
    public IReadOnlyList<int> Classes { get; }

    /// <summary>The task's number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>The specialist's outputs: one per class it knows, then "other".</summary>
    public int OutputCount => Classes.Count + 1;

    /// <summary>The classes as text, such as "0-3" or "5,8,9,0".</summary>
    public override string ToString()
    {
        var c = Classes;
        bool range = c.Count > 2 && Enumerable.Range(1, c.Count - 1).All(i => c[i] == c[i - 1] + 1);
        return range ? $"{c[0]}-{c[^1]}" : string.Join(",", c);
    }

    /// <summary>
    /// The data as this specialist learns it: a label among its classes becomes that class's position, any other label
    /// becomes "other" (the last output); unlabelled rows stay unlabelled. Class names follow.
    /// </summary>
    public ImageDataset Relabel(ImageDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.ClassCount != ClassCount)
            throw new ArgumentException($"Specialist {this} is for {ClassCount} classes; the data has {data.ClassCount}.", nameof(data));
        var position = Enumerable.Repeat(Classes.Count, ClassCount).ToArray();
        for (int j = 0; j < Classes.Count; j++) position[Classes[j]] = j;
        var labels = data.Labels.Select(l => l == ImageDataset.Unlabeled ? l : position[l]).ToArray();
        return data.WithLabels(labels).WithClassNames([.. Classes.Select(c => data.ClassNames[c]), OtherClassName]);
    }

    /// <summary>
    /// The default groups for <paramref name="count"/> specialists of <paramref name="classCount"/> classes: windows of
    /// ⌈2C / K⌉ consecutive classes starting at ⌊k·C / K⌋ and wrapping around, so every class is covered at least twice
    /// (10 classes, 5 specialists: 0-3, 2-5, 4-7, 6-9, 8,9,0,1).
    /// </summary>
    public static IReadOnlyList<SpecialistClasses> DefaultGroups(int classCount, int count)
    {
        if (classCount < 2)
            throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "Specialists need a task of two or more classes.");
        if (count < 2)
            throw new ArgumentOutOfRangeException(nameof(count), count, "Specialists covering every class twice need two or more of them.");
        int size = (int)Math.Ceiling(2.0 * classCount / count);
        if (size >= classCount)
            throw new ArgumentException($"{count} specialists of {classCount} classes would each know all of them; with {classCount} classes give {(int)Math.Ceiling(2.0 * classCount / (classCount - 1))} or more " +
                "specialists, or the groups themselves.", nameof(count));
        return Enumerable.Range(0, count)
            .Select(k => new SpecialistClasses(Enumerable.Range(k * classCount / count, size).Select(c => c % classCount).ToArray(), classCount))
            .ToArray();
    }

    /// <summary>
    /// Groups written as text: groups separated by ';', each a list of classes and ranges separated by ',' ("0-3;1-4;4-7;6-9;5,8,9,0").
    /// Classes are indices 0 to C − 1, or class names.
    /// </summary>
    public static IReadOnlyList<SpecialistClasses> Parse(string text, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(classNames);
        int classCount = classNames.Count;
        var groups = new List<SpecialistClasses>();
        foreach (var group in text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var classes = new List<int>();
            foreach (var item in group.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                int dash = item.IndexOf('-', 1);
                if (dash > 0 && int.TryParse(item[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out int from)
                    && int.TryParse(item[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int to))
                {
                    if (to < from) throw new ArgumentException($"Specialist group '{group}': the range {item} runs backwards.");
                    for (int c = from; c <= to; c++) classes.Add(Class(c.ToString(CultureInfo.InvariantCulture), group, classNames));
                }
                else classes.Add(Class(item, group, classNames));
            }
            try
            {
                groups.Add(new SpecialistClasses(classes, classCount));
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Specialist group '{group}': {e.Message.Split(" (Parameter")[0]}", e);
            }
        }
        if (groups.Count == 0)
            throw new ArgumentException($"No specialist groups in '{text}'; expected groups separated by ';', such as 0-3;1-4;4-7;6-9;5,8,9,0.");
        return groups;
    }

    private static int Class(string item, string group, IReadOnlyList<string> classNames)
    {
        if (int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
            return index < classNames.Count ? index
                : throw new ArgumentException($"Specialist group '{group}': class {index} is not one of the data's classes 0 to {classNames.Count - 1}.");
        for (int c = 0; c < classNames.Count; c++)
            if (string.Equals(classNames[c], item, StringComparison.OrdinalIgnoreCase)) return c;
        throw new ArgumentException($"Specialist group '{group}': '{item}' is neither a class index nor a class name of the data ({string.Join(", ", classNames)}).");
    }

    /// <summary>The classes an ONNX file records as a specialist's (metadata "mtkd.specialist"); null for a model of all the classes.</summary>
    public static SpecialistClasses? FromOnnx(string path) => Of(Onnx.OnnxModelInfo.Read(path));

    /// <summary>The classes a model already read records as a specialist's; null for a model of all the classes.</summary>
    public static SpecialistClasses? Of(Onnx.OnnxModelInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return info.Metadata.TryGetValue(MetadataKey, out var value) ? Decode(value, info.Source) : null;
    }

    /// <summary>The metadata value: {"classes":[…],"class_count":C}.</summary>
    internal string Encode() => JsonSerializer.Serialize(new Stored(Classes.ToArray(), ClassCount));

    /// <summary>Reads the metadata value of model <paramref name="modelName"/>.</summary>
    internal static SpecialistClasses Decode(string value, string modelName)
    {
        try
        {
            var stored = JsonSerializer.Deserialize<Stored>(value);
            if (stored?.Classes is null) throw new JsonException("no classes");
            return new SpecialistClasses(stored.Classes, stored.ClassCount);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new InvalidDataException($"Teacher '{modelName}' has metadata {MetadataKey} = '{value}', which is not a specialist's classes " +
                $"({{\"classes\":[0,1,2,3],\"class_count\":10}}): {e.Message}", e);
        }
    }

    private sealed record Stored([property: JsonPropertyName("classes")] int[] Classes, [property: JsonPropertyName("class_count")] int ClassCount);
}
