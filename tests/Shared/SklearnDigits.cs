using System.Globalization;
using System.IO.Compression;

namespace Mtkd.Tests;

/// <summary>
/// The handwritten digits of scikit-learn's Debian package (python3-sklearn: 1,797 images of 8×8 pixels, values 0–16,
/// ten classes), read as tabular rows: 64 features scaled to [0, 1] and the digit. Real data, small enough for tests.
/// </summary>
internal static class SklearnDigits
{
    public const string Path = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz";

    public static (float[][] Features, int[] Labels) Load()
    {
        if (!File.Exists(Path))
            throw new FileNotFoundException($"{Path} is missing: install Debian's python3-sklearn (apt-get install python3-sklearn), as .ci/run does.", Path);
        using var reader = new StreamReader(new GZipStream(File.OpenRead(Path), CompressionMode.Decompress));
        var features = new List<float[]>();
        var labels = new List<int>();
        while (reader.ReadLine() is { Length: > 0 } line)
        {
            var values = line.Split(',');
            features.Add(values.Take(64).Select(v => float.Parse(v, CultureInfo.InvariantCulture) / 16f).ToArray());
            labels.Add(int.Parse(values[64], CultureInfo.InvariantCulture));
        }
        return (features.ToArray(), labels.ToArray());
    }
}
