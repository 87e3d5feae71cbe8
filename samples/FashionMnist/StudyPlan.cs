using System.Globalization;
using Mtkd.Training.Distillation;

namespace Mtkd.Samples.FashionMnist;

/// <summary>K teachers bagged on <see cref="Fraction"/> of the training images, for one seed; smaller K take the first K.</summary>
public sealed record TeacherSet(double Fraction, int Seed, int Count)
{
    /// <summary>Teacher k's seed: its weights, its bagging subset and its augmentations.</summary>
    public int TeacherSeed(int k) => Seed * 1000 + k;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"f={Fraction} seed={Seed}");
}

/// <summary>One student: the baseline (Mode null: trained on the labels) or a distillation from the first K teachers of a set.</summary>
/// <param name="Adjusted">Knowledge adjustment: the teachers' wrong top classes swapped with the true ones before distilling.</param>
public sealed record StudentRun(DistillationMode? Mode, int Teachers, double Fraction, double Alpha, int Seed, bool Adjusted = false)
{
    public bool IsBaseline => Mode is null;

    public string ModeName => Mode?.Name() ?? "baseline";

    /// <summary>The mode's name, marked when the teachers' logits are adjusted.</summary>
    public string Label => Adjusted ? ModeName + " (adjusted)" : ModeName;

    /// <summary>The configuration without the seed: runs that differ only in seed are averaged together.</summary>
    public StudentRun WithoutSeed => this with { Seed = 0 };

    public override string ToString() => IsBaseline
        ? $"baseline seed={Seed}"
        : string.Create(CultureInfo.InvariantCulture, $"{Label} K={Teachers} f={Fraction} α={Alpha} seed={Seed}");
}

/// <summary>The runs of a profile, in the order they run: each seed's centre configuration first, so a stopped run has the headline.</summary>
public static class StudyPlan
{
    public static IReadOnlyList<StudentRun> Students(StudyProfile p)
    {
        var runs = new List<StudentRun>();
        foreach (int seed in p.Seeds)
        {
            // Baseline fields other than the seed are unused; the centre's are kept so the key reads naturally.
            runs.Add(new StudentRun(null, 0, 0, 0, seed));
            if (p.FullGrid)
            {
                foreach (double f in p.Fractions)
                    foreach (int k in p.TeacherCounts)
                        foreach (bool adjusted in p.Adjustments)
                            foreach (var mode in p.Modes)
                                foreach (double a in p.Alphas)
                                    runs.Add(new StudentRun(mode, k, f, a, seed, adjusted));
                continue;
            }
            foreach (bool adjusted in p.Adjustments)
                foreach (double a in p.Alphas)
                    foreach (var mode in p.Modes)
                        runs.Add(new StudentRun(mode, p.CentreTeachers, p.CentreFraction, a, seed, adjusted));
            foreach (int k in p.TeacherCounts.Where(k => k != p.CentreTeachers))
                runs.Add(new StudentRun(p.SweepMode, k, p.CentreFraction, p.CentreAlpha, seed, p.SweepAdjusted));
            foreach (double f in p.Fractions.Where(f => f != p.CentreFraction))
                runs.Add(new StudentRun(p.SweepMode, p.CentreTeachers, f, p.CentreAlpha, seed, p.SweepAdjusted));
        }
        return runs;
    }

    /// <summary>The teacher sets the students need; every set holds the profile's largest K, so smaller K share its teachers.</summary>
    public static IReadOnlyList<TeacherSet> TeacherSets(StudyProfile p) =>
        Students(p).Where(r => !r.IsBaseline).Select(r => TeacherSetOf(p, r)).Distinct().ToArray();

    public static TeacherSet TeacherSetOf(StudyProfile p, StudentRun run) => new(run.Fraction, run.Seed, p.TeacherCounts.Max());
}
