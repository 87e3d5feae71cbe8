using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet.Internal;
using Mtkd.Training.SoftLabels;

namespace Mtkd.MLNet.SoftLabels;

/// <summary>
/// A loaded soft-label dataset as a data view: <c>Index</c> (Int64, the row's position in the scored data),
/// <c>Label</c> (a key over the classes, missing where unknown) and <c>TeacherLogits</c> (teachers × classes), and,
/// when the file records every teacher's training rows, <c>TeacherInBag</c> (per teacher 1 where it trained on the row, else 0).
/// </summary>
internal static class SoftLabelDataView
{
    public static IDataView Create(SoftLabelSet set, string indexColumnName, string labelColumnName, string logitsColumnName, string inBagColumnName)
    {
        var header = set.Header;
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(indexColumnName, NumberDataViewType.Int64);

        var labelAnnotations = new DataViewSchema.Annotations.Builder();
        if (header.ClassNames is { } classNames)
            ArrayDataView.AddText(labelAnnotations, "KeyValues", classNames);
        builder.AddColumn(labelColumnName, new KeyDataViewType(typeof(uint), header.ClassCount), labelAnnotations.ToAnnotations());
        AddTeacherColumns(builder, header, logitsColumnName, inBagColumnName);

        Func<Func<long>, Delegate> ids = row => (ValueGetter<long>)((ref long value) => value = set.RowIds[row()]);
        var getters = new List<Func<Func<long>, Delegate>> { ids, ArrayDataView.Keys(set.Labels), ArrayDataView.Vectors(set.Logits, header.Width) };
        if (InBag(set) is { } inBag)
            getters.Add(ArrayDataView.Vectors(inBag, header.TeacherCount));
        return new ArrayDataView(builder.ToSchema(), set.RowCount, [.. getters]);
    }

    /// <summary>The teacher-logits column (slot names and teacher names annotated, as ScoreTeachers writes them) and, when known, the in-bag column.</summary>
    public static void AddTeacherColumns(DataViewSchema.Builder builder, SoftLabelHeader header, string logitsColumnName, string inBagColumnName)
    {
        var logitAnnotations = new DataViewSchema.Annotations.Builder();
        ArrayDataView.AddText(logitAnnotations, "SlotNames",
            Enumerable.Range(0, header.Width).Select(i => SoftLabelHeader.LogitName(i / header.ClassCount, i % header.ClassCount)).ToArray());
        ArrayDataView.AddText(logitAnnotations, SoftLabelColumns.TeacherNamesKind, header.TeacherNames.ToArray());
        builder.AddColumn(logitsColumnName, new VectorDataViewType(NumberDataViewType.Single, header.Width), logitAnnotations.ToAnnotations());
        if (header.KnowsTrainingRows)
            builder.AddColumn(inBagColumnName, new VectorDataViewType(NumberDataViewType.Single, header.TeacherCount));
    }

    /// <summary>Per row and teacher 1 where the teacher trained on the row, else 0; null when the file does not know.</summary>
    public static float[]? InBag(SoftLabelSet set) => set.Header.KnowsTrainingRows
        ? TrainingRowSet.InBagMask(set.Header.TeacherTrainingRows!, set.RowIds).Select(v => v ? 1f : 0f).ToArray()
        : null;
}
