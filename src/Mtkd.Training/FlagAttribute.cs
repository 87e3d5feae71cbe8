namespace Mtkd.Training;

/// <summary>
/// Declares an option property's command-line flag and help beside the option itself, as ML.NET's <c>[Argument]</c>
/// does: <c>mtkd</c> generates its flags from these (name, help, value type, the default read from a new instance),
/// so an option is one property. Nested option objects (<c>TrainerOptions.Augmentation</c>) are walked.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class FlagAttribute(string name, string help) : Attribute
{
    /// <summary>The flag, with its dashes ("--lr").</summary>
    public string Name { get; } = name;

    /// <summary>One sentence of help; the default is added to it.</summary>
    public string Help { get; } = help;

    /// <summary>For a nullable number: 0 on the command line means null ("off"). Default false.</summary>
    public bool ZeroIsNull { get; init; }
}

/// <summary>The command-line spelling of an enum value, where it differs from the lower-cased name ("cyclic" for CyclicCosine).</summary>
[AttributeUsage(AttributeTargets.Field)]
internal sealed class FlagValueAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
