using Mtkd.Training.Engine;
using Mtkd.Training.Fusion;
using Mtkd.Training.Teachers;

namespace Mtkd.Samples.FashionMnist;

/// <summary>One regime's (or curve point's) figures per seed, from what the cache holds: teachers, ensemble, baselines and students.</summary>
public sealed class RegimeFigures
{
    private readonly Study study;

    public RegimeFigures(Study study, Regime regime, int labels, IEnumerable<int> seeds)
    {
        this.study = study;
        Regime = regime;
        Labels = labels;
        foreach (int seed in seeds)
        {
            var ids = Enumerable.Range(0, regime.Teachers.Count).Select(k => new TeacherId(regime.Teachers, labels, seed, k)).ToArray();
            var results = ids.Select(t => ResultCache.TryRead<TeacherResult>(Path.Combine(study.Teachers.Folder(t), "result.json"))).ToArray();
            if (results.All(r => r is not null))
            {
                Teachers[seed] = results!;
                Ensemble[seed] = EnsembleAccuracy(ids);
            }
            foreach (var recipe in regime.Recipes)
                if (study.Students.Cached(new StudentId(regime, recipe, seed, labels)) is { } s)
                    Students[(recipe.Name, seed)] = s;
        }
    }

    public Regime Regime { get; }
    public int Labels { get; }
    public Dictionary<int, TeacherResult[]> Teachers { get; } = [];
    public Dictionary<int, double> Ensemble { get; } = [];
    public Dictionary<(string Recipe, int Seed), StudentResult> Students { get; } = [];

    public Dictionary<int, double> StudentBySeed(string recipe) =>
        Students.Where(kv => kv.Key.Recipe == recipe).ToDictionary(kv => kv.Key.Seed, kv => kv.Value.TestAccuracy);

    public MeanSe MeanTeacher => MeanSe.Of(Teachers.Values.Select(t => t.Average(x => x.TestAccuracy)));

    /// <summary>L: the ensemble's lead over the labels-only baseline, paired by seed.</summary>
    public MeanSe Lead => MeanSe.Paired(Ensemble, StudentBySeed(StudentRecipe.Labels.Name));

    /// <summary>G: a recipe's gain over its own baseline (the same augmentation and steps), paired by seed.</summary>
    public MeanSe Gain(StudentRecipe recipe) => MeanSe.Paired(StudentBySeed(recipe.Name), StudentBySeed(recipe.BaselineName));

    /// <summary>
    /// The distilled recipe with the largest mean gain among those with the most seeds (chosen on the test set:
    /// optimistic, and said so; a one-seed exploratory figure does not make the headline).
    /// </summary>
    public StudentRecipe? Best
    {
        get
        {
            int seeds = Regime.Distilled.Select(r => Gain(r).Count).DefaultIfEmpty(0).Max();
            return seeds == 0 ? null : Regime.Distilled.Where(r => Gain(r).Count == seeds).OrderByDescending(r => Gain(r).Mean).First();
        }
    }

    /// <summary>Whether <paramref name="recipe"/> meets the regime's target; null while figures are missing.</summary>
    public bool? Met(StudentRecipe recipe)
    {
        var g = Gain(recipe);
        var l = Lead;
        if (g.Count == 0 || l.Count == 0) return null;
        var t = Regime.Target;
        bool significant = !t.Significant || (g.Count > 1 && g.Mean > 2 * g.StandardError);
        return significant && g.Mean >= t.MinGain && g.Mean >= t.MinShareOfLead * l.Mean;
    }

    public long? TeacherMacs => Teachers.Values.FirstOrDefault()?.Sum(t => t.MultiplyAccumulates);

    public long? StudentMacs => Students.Values.FirstOrDefault()?.MultiplyAccumulates;

    private double EnsembleAccuracy(TeacherId[] ids)
    {
        var test = study.Data.Test;
        if (ids[0].Recipe.Specialists)
        {
            // The unified ensemble, as distillation sees it: the specialists' ONNX files read together.
            using var unified = OnnxTeachers.Load(ids.Select(t => TeacherModel.FromFile(study.Teachers.OnnxPath(t))).ToArray());
            return SoftLabelAccuracy.MeanProbability(unified.Logits(test), test.Labels, 1, test.ClassCount);
        }
        int c = test.ClassCount, k = ids.Length;
        var perTeacher = ids.Select(study.Teachers.TestLogits).ToArray();
        var all = new float[(long)test.Count * k * c];
        for (int n = 0; n < test.Count; n++)
            for (int t = 0; t < k; t++)
                Array.Copy(perTeacher[t], n * c, all, ((long)n * k + t) * c, c);
        return SoftLabelAccuracy.MeanProbability(all, test.Labels, k, c);
    }
}
