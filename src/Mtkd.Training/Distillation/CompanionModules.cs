using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Distillation;

/// <summary>
/// Modules a method trains beside the student (peer students, branches, adapters), as one module whose parameters,
/// state and device follow its items. A bare <c>nn.ModuleList</c> is not enough: TorchSharp registers a list's items
/// only when a module holding it calls RegisterComponents, so on its own the list reports no parameters and the
/// optimizer would never move them.
/// </summary>
internal sealed class CompanionModules : nn.Module
{
    private readonly ModuleList<nn.Module> items;

    public CompanionModules(IEnumerable<nn.Module> modules) : base("companions")
    {
        items = nn.ModuleList(modules.ToArray());
        RegisterComponents();
    }

    public int Count => items.Count;
}
