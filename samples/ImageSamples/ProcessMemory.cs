using System.Globalization;

namespace Mtkd.Samples.Images;

/// <summary>The process's own memory figures, as the kernel keeps them.</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident memory of this process so far (VmHWM in /proc/self/status), in bytes; 0 where /proc is absent.</summary>
    public static long PeakResidentBytes()
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path)) return 0;
        var line = File.ReadLines(path).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary><see cref="PeakResidentBytes"/> in GiB.</summary>
    public static double PeakResidentGiB() => PeakResidentBytes() / (double)(1L << 30);
}
