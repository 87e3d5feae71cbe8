namespace Mtkd.Cli.Demo;

/// <summary>Receives the progress of a long run, stage by stage; the console renders it as progress bars.</summary>
public interface IStageObserver
{
    /// <summary>Starts a stage; report its completed fraction (0..1) through the returned object.</summary>
    IProgress<double> Begin(string stage);
}

/// <summary>An observer that shows nothing.</summary>
public sealed class SilentObserver : IStageObserver
{
    public IProgress<double> Begin(string stage) => new Progress<double>();
}
