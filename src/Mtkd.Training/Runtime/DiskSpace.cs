namespace Mtkd.Training;

/// <summary>Free space checked before a large file is written (a pool of views, an image cache), so a disk that cannot hold it is refused before the first byte.</summary>
internal static class DiskSpace
{
    /// <summary>Free bytes on the disk holding a folder; tests replace it to try a file that does not fit.</summary>
    internal static Func<string, long> Free { get; set; } = folder => new DriveInfo(Path.GetFullPath(folder)).AvailableFreeSpace;

    /// <summary>"1.5 GiB": a size as people read it.</summary>
    public static string Size(long bytes) => bytes switch
    {
        >= 1L << 40 => $"{bytes / (double)(1L << 40):F1} TiB",
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F1} GiB",
        _ => $"{bytes / (double)(1L << 20):F1} MiB",
    };
}
