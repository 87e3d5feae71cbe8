using System.Reflection;
using Microsoft.ML;

namespace Mtkd.MLNet.Internal;

/// <summary>
/// Building SchemaShape values from outside ML.NET: SchemaShape.Column has no public constructor, so new columns are
/// described in a DataViewSchema and converted with ML.NET's own (internal) SchemaShape.Create.
/// </summary>
internal static class SchemaShapes
{
    private static readonly MethodInfo Create = typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, [typeof(DataViewSchema)])
        ?? throw new InvalidOperationException($"ML.NET {typeof(SchemaShape).Assembly.GetName().Version} has no SchemaShape.Create(DataViewSchema); use the ML.NET version Mtkd references.");

    /// <summary>The shape of a data view's schema, as an estimator chain sees it.</summary>
    public static SchemaShape Of(DataViewSchema schema) => (SchemaShape)Create.Invoke(null, [schema])!;

    /// <summary>The input shape with the columns added by <paramref name="describe"/> (replacing same-named ones).</summary>
    public static SchemaShape With(SchemaShape input, Action<DataViewSchema.Builder> describe)
    {
        var builder = new DataViewSchema.Builder();
        describe(builder);
        var added = (SchemaShape)Create.Invoke(null, [builder.ToSchema()])!;
        var names = added.Select(c => c.Name).ToHashSet();
        return new SchemaShape(input.Where(c => !names.Contains(c.Name)).Concat(added));
    }

    /// <summary>The column of that name, or null.</summary>
    public static SchemaShape.Column? Find(SchemaShape shape, string name) =>
        shape.Where(c => c.Name == name).Select(c => (SchemaShape.Column?)c).FirstOrDefault();
}
