namespace Mtkd.Training.Engine;

/// <summary>
/// Reports on the calling thread, at once. <see cref="Progress{T}"/> posts to a synchronisation context instead,
/// so a progress bar or an epoch hook would lag behind the training loop it follows.
/// </summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
