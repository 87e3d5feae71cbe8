using System.CommandLine;
using System.Globalization;
using System.Reflection;
using Mtkd.Training;

namespace Mtkd.Cli.Commands;

/// <summary>
/// The flags of an options object, generated from its <see cref="FlagAttribute"/> declarations (and those of the
/// option objects it holds): name, help, value type and the default, read from the defaults object. Adding an option
/// to the engine is one property with its attribute; no flag is written by hand.
/// </summary>
internal sealed class OptionFlags
{
    private readonly List<(PropertyInfo[] Path, FlagAttribute Flag, Option Option)> flags = [];

    /// <param name="defaults">An options object holding the command's defaults (the engine's, or the command's own where it differs).</param>
    public OptionFlags(object defaults) => Collect(defaults, []);

    private void Collect(object defaults, PropertyInfo[] path)
    {
        foreach (var property in defaults.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetCustomAttribute<FlagAttribute>() is { } flag)
                flags.Add(([.. path, property], flag, Create(property, flag, property.GetValue(defaults))));
            else if (property.PropertyType.IsClass && property.PropertyType != typeof(string) && property.SetMethod is { IsPublic: true }
                     && property.GetValue(defaults) is { } nested && nested.GetType().GetProperties().Any(p => p.IsDefined(typeof(FlagAttribute))))
                Collect(nested, [.. path, property]);
        }
    }

    /// <summary>The generated options, for a command to add.</summary>
    public IEnumerable<Option> Options => flags.Select(f => f.Option);

    /// <summary>The flag declared on <paramref name="property"/> of <paramref name="type"/>; for messages and tests.</summary>
    public Option? For(Type type, string property) => flags.FirstOrDefault(f => f.Path[^1].DeclaringType == type && f.Path[^1].Name == property).Option;

    public void AddTo(Command command)
    {
        foreach (var option in Options) command.Options.Add(option);
    }

    /// <summary>Sets every flag's value (given, or its default) on <paramref name="target"/>, an object of the defaults' type.</summary>
    public void Apply(ParseResult parse, object target)
    {
        foreach (var (path, flag, option) in flags)
        {
            object owner = target;
            foreach (var step in path[..^1]) owner = step.GetValue(owner)!;
            var property = path[^1];
            object? value = option is Option<bool> b ? parse.GetValue(b) : Convert(parse.GetValue((Option<string>)option)!, property.PropertyType, flag);
            property.SetValue(owner, value);
        }
    }

    private static Option Create(PropertyInfo property, FlagAttribute flag, object? value)
    {
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        if (type == typeof(bool))
            return new Option<bool>(flag.Name) { Description = flag.Help, DefaultValueFactory = _ => value is true };
        string text = Text(value, flag);
        string help = type.IsEnum ? $"{flag.Help} One of {string.Join(", ", Enum.GetValues(type).Cast<Enum>().Select(ValueName))}." : flag.Help;
        return new Option<string>(flag.Name)
        {
            Description = help, DefaultValueFactory = _ => text,
            HelpName = type.IsEnum ? "value" : type == typeof(int) ? "int" : type == typeof(double) ? "number" : type == typeof(double[]) ? "numbers" : "text",
        };
    }

    /// <summary>A default as the command line writes it: an enum's spelling, a list as "1,0.5", 0 for an off setting.</summary>
    public static string Text(object? value, FlagAttribute flag) => value switch
    {
        null => flag.ZeroIsNull ? "0" : "",
        Enum e => ValueName(e),
        double[] list => string.Join(",", list.Select(v => v.ToString(CultureInfo.InvariantCulture))),
        _ => System.Convert.ToString(value, CultureInfo.InvariantCulture)!,
    };

    /// <summary>A flag's text as the property's type (numbers, lists of numbers, enums, text); a value that is none is refused naming the flag.</summary>
    public static object? Convert(string text, Type propertyType, FlagAttribute flag)
    {
        var type = Nullable.GetUnderlyingType(propertyType) ?? propertyType;
        if (type == typeof(string))
            return text.Length == 0 && propertyType != type ? null : text;
        if (type == typeof(double[]))
            return text.Split(',').Select(part => double.TryParse(part.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new ArgumentException($"{flag.Name} '{text}': expected numbers separated by commas, such as 1,0.5.")).ToArray();
        if (type.IsEnum)
            return Enum.GetValues(type).Cast<Enum>().FirstOrDefault(v => ValueName(v) == text.ToLowerInvariant())
                ?? throw new ArgumentException($"{flag.Name} '{text}' is not one of {string.Join(", ", Enum.GetValues(type).Cast<Enum>().Select(ValueName))}.");
        object number;
        try
        {
            number = System.Convert.ChangeType(text, type, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or OverflowException or InvalidCastException)
        {
            throw new ArgumentException($"{flag.Name} '{text}': expected {(type == typeof(int) ? "a whole number" : "a number")}.");
        }
        if (flag.ZeroIsNull && number is int n)
            return n switch
            {
                0 => null,
                < 0 => throw new ArgumentException($"{flag.Name} {n}: expected 0 (off) or a positive number."),
                _ => n,
            };
        return number;
    }

    /// <summary>An enum value as the command line spells it: its <see cref="FlagValueAttribute"/>, else its name in lower case.</summary>
    public static string ValueName(Enum value) =>
        value.GetType().GetField(value.ToString())?.GetCustomAttribute<FlagValueAttribute>()?.Name ?? value.ToString().ToLowerInvariant();
}
