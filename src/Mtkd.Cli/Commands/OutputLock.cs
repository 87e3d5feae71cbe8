namespace Mtkd.Cli.Commands;

/// <summary>
/// One run at a time per output folder: a second <c>mtkd distill</c> on the same <c>--out</c> would train the same
/// student again and race on its files. The lock is an OS file lock on <c>OUT/.mtkd.lock</c> (released by the
/// kernel when the process ends, even by kill -9); <c>OUT/.mtkd.lock.holder</c> names the holder so a refusal can say
/// who it is (a locked file cannot be read here). Both are removed when the run ends.
/// </summary>
internal sealed class OutputLock : IDisposable
{
    private const string FileName = ".mtkd.lock";
    private readonly FileStream stream;
    private readonly string holderPath;

    private OutputLock(FileStream stream, string holderPath) => (this.stream, this.holderPath) = (stream, holderPath);

    /// <summary>Takes the folder's lock, or refuses naming the process that holds it.</summary>
    public static OutputLock Acquire(string folder, string what)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, FileName);
        var holderPath = path + ".holder";
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            File.WriteAllText(holderPath, $"process {Environment.ProcessId} ({what}, since {DateTime.Now:yyyy-MM-dd HH:mm:ss})");
            return new OutputLock(stream, holderPath);
        }
        catch (IOException)
        {
            string holder;
            try
            {
                holder = File.ReadAllText(holderPath);
            }
            catch (IOException)
            {
                holder = "another process";
            }
            throw new InvalidOperationException($"{folder} is in use by {holder}; wait for it to finish, or give another folder.");
        }
    }

    // Removed while still locked, then unlocked: a run starting now creates and locks a new file, never one about to go.
    public void Dispose()
    {
        File.Delete(holderPath);
        File.Delete(stream.Name);
        stream.Dispose();
    }
}
