namespace Mtkd.Cli.Demo;

/// <summary>Receives the progress of a long run, stage by stage; the console renders it as progress bars.</summary>
public interface IStageObserver
{
    /// <summary>Starts a stage; report its completed fraction (0..1) through the returned object.</summary>
    IProgress<double> Begin(string stage);

    /// <summary>A line for the reader: what the run is.</summary>
    void Note(string line);
}

/// <summary>An observer that shows nothing.</summary>
public sealed class SilentObserver : IStageObserver
{
    public IProgress<double> Begin(string stage) => new Progress<double>();

    public void Note(string line) { }
}
