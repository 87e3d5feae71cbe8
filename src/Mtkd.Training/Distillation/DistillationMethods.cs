using System.Reflection;
using System.Text.Json.Serialization;

namespace Mtkd.Training.Distillation;

/// <summary>The registered methods by name: the <see cref="JsonDerivedTypeAttribute"/> lines on <see cref="DistillationMethod"/>.</summary>
public static class DistillationMethods
{
    private static readonly (Type Type, string Name)[] Registered = typeof(DistillationMethod)
        .GetCustomAttributes<JsonDerivedTypeAttribute>()
        .Select(a => (a.DerivedType, (string)a.TypeDiscriminator!))
        .ToArray();

    /// <summary>Every registered name, in registration order.</summary>
    public static IReadOnlyList<string> Names { get; } = Registered.Select(r => r.Name).ToArray();

    /// <summary>The method types, in registration order.</summary>
    public static IReadOnlyList<Type> Types { get; } = Registered.Select(r => r.Type).ToArray();

    /// <summary>A new method of that name (dashes read as underscores) with its default settings; an unknown name is refused naming the known ones.</summary>
    public static DistillationMethod Create(string name) =>
        Registered.FirstOrDefault(r => r.Name == name.ToLowerInvariant().Replace('-', '_')) is { Type: not null } found
            ? (DistillationMethod)Activator.CreateInstance(found.Type)!
            : throw new ArgumentException($"Unknown distillation method '{name}'; expected one of: {string.Join(", ", Names)}.", nameof(name));

    internal static string NameOf(Type type) =>
        Registered.FirstOrDefault(r => r.Type == type).Name
            ?? throw new InvalidOperationException($"{type.Name} is not registered: add [JsonDerivedType(typeof({type.Name}), \"name\")] to DistillationMethod.");
}
