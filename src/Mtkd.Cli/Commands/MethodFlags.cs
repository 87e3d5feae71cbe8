using System.CommandLine;
using System.Globalization;
using System.Reflection;
using Mtkd.Training;
using Mtkd.Training.Distillation;

namespace Mtkd.Cli.Commands;

/// <summary>
/// <c>--method</c> and every registered method's own settings as flags, generated from the method types: each
/// property with a <see cref="FlagAttribute"/> becomes its flag, the default read from a new instance; methods that
/// share a flag name share the flag. A new method, or a new setting of one, needs no line here.
/// </summary>
internal sealed class MethodFlags
{
    private readonly Option<string> method = new("--method", "--mode")
    {
        Description = $"Distillation method: {string.Join(", ", DistillationMethods.Names)}.", DefaultValueFactory = _ => "output_avg",
    };

    private readonly List<(PropertyInfo Property, Option<string> Option)> settings = [];

    public MethodFlags()
    {
        var byName = new Dictionary<string, Option<string>>();
        foreach (var type in DistillationMethods.Types)
        {
            var defaults = Activator.CreateInstance(type)!;
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            {
                if (property.SetMethod is not { IsPublic: true } || property.GetCustomAttribute<FlagAttribute>() is not { } flag)
                    continue;
                var name = flag.Name;
                if (!byName.TryGetValue(name, out var option))
                {
                    var value = property.GetValue(defaults);
                    option = new Option<string>(name)
                    {
                        Description = $"{DistillationMethods.NameOf(type)}: {flag.Help} Default: {(value is null ? "none" : OptionFlags.Text(value, flag))}.",
                        HelpName = Nullable.GetUnderlyingType(property.PropertyType)?.Name.ToLowerInvariant() ?? property.PropertyType.Name.ToLowerInvariant(),
                    };
                    byName[name] = option;
                }
                settings.Add((property, option));
            }
        }
    }

    public void AddTo(Command command)
    {
        command.Options.Add(method);
        foreach (var option in settings.Select(s => s.Option).Distinct())
            command.Options.Add(option);
    }

    /// <summary>The method named by --method, with the settings given as flags; a flag of another method is refused.</summary>
    public DistillationMethod Create(ParseResult parse)
    {
        var chosen = DistillationMethods.Create(parse.GetValue(method)!);
        foreach (var option in settings.Select(s => s.Option).Distinct())
        {
            if (parse.GetResult(option) is not { Implicit: false }) continue;
            var text = parse.GetValue(option)!;
            var property = settings.FirstOrDefault(s => s.Option == option && s.Property.DeclaringType!.IsInstanceOfType(chosen)).Property
                ?? throw new ArgumentException($"{option.Name} is a setting of " +
                    $"{string.Join(", ", settings.Where(s => s.Option == option).Select(s => DistillationMethods.NameOf(s.Property.DeclaringType!)))}, not of {chosen.Name}.");
            property.SetValue(chosen, OptionFlags.Convert(text, property.PropertyType, property.GetCustomAttribute<FlagAttribute>()!));
        }
        chosen.Validate();
        return chosen;
    }
}
