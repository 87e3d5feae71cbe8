using System.CommandLine;
using Mtkd.Cli.Commands;
using Mtkd.Training.Distillation.Methods;

namespace Mtkd.Cli.Tests.Commands;

/// <summary>mtkd distill's method flags come from the method types: each setting is a flag, and a flag of another method is refused.</summary>
public sealed class MethodFlagsTests
{
    private static (MethodFlags Flags, ParseResult Parse) Parse(params string[] arguments)
    {
        var flags = new MethodFlags();
        var command = new Command("distill");
        flags.AddTo(command);
        return (flags, command.Parse(arguments));
    }

    [Fact]
    public void A_methods_settings_are_flags()
    {
        var (flags, parse) = Parse("--method", "mutual", "--students", "3");
        Assert.Equal(3, Assert.IsType<MutualLearning>(flags.Create(parse)).Students);
        (flags, parse) = Parse("--mode", "hint", "--hint-weight", "0.5", "--hint-layer", "4");
        var hint = Assert.IsType<HintLearning>(flags.Create(parse));
        Assert.Equal((0.5, 4), (hint.HintWeight, hint.HintLayer));
        (flags, parse) = Parse();
        Assert.IsType<OutputAverage>(flags.Create(parse));
    }

    [Fact]
    public void Flags_of_another_method_and_bad_values_are_refused()
    {
        var (flags, parse) = Parse("--students", "3");
        Assert.Contains("--students is a setting of mutual, not of output_avg", Assert.Throws<ArgumentException>(() => flags.Create(parse)).Message);
        (flags, parse) = Parse("--method", "mutual", "--students", "two");
        Assert.Contains("expected a whole number", Assert.Throws<ArgumentException>(() => flags.Create(parse)).Message);
        (flags, parse) = Parse("--method", "mutual", "--students", "1");
        Assert.Throws<ArgumentOutOfRangeException>(() => flags.Create(parse));
    }
}
