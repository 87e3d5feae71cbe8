using System.Globalization;

namespace Mtkd.Training.Engine;

/// <summary>Mean and standard error of accuracies (fractions) over seeds, printed in percentage points: how runs of several seeds are reported.</summary>
public readonly record struct MeanSe(double Mean, double StandardError, int Count)
{
    public static MeanSe Of(IEnumerable<double> values)
    {
        var v = values.ToArray();
        if (v.Length == 0) return new MeanSe(double.NaN, double.NaN, 0);
        double mean = v.Average();
        double se = v.Length < 2 ? double.NaN : Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1) / v.Length);
        return new MeanSe(mean, se, v.Length);
    }

    /// <summary>The mean and SE of per-seed differences a − b over the seeds both have (a paired comparison).</summary>
    public static MeanSe Paired(IReadOnlyDictionary<int, double> a, IReadOnlyDictionary<int, double> b) =>
        Of(a.Keys.Intersect(b.Keys).Select(seed => a[seed] - b[seed]));

    /// <summary>"91.23 ± 0.12" in percentage points (fractions in, points out).</summary>
    public override string ToString() => Count == 0 ? "–"
        : double.IsNaN(StandardError) ? (100 * Mean).ToString("F2", CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{100 * Mean:F2} ± {100 * StandardError:F2}");
}
