namespace Mtkd.Samples.FashionMnist;

/// <summary>The runs of a profile in the order they run, training whatever the cache lacks.</summary>
public sealed class Study
{
    private readonly StudyProfile profile;
    private readonly IStudyLog log;

    public Study(StudyProfile profile, string cacheDirectory, string? dataDirectory, IStudyLog log)
    {
        this.profile = profile;
        this.log = log;
        Data = new StudyData(profile, dataDirectory);
        var cache = new ResultCache(cacheDirectory);
        Teachers = new TeacherRunner(Data, cache, log);
        Students = new StudentRunner(Data, cache, Teachers, log);
    }

    public StudyProfile Profile => profile;
    public StudyData Data { get; }
    public TeacherRunner Teachers { get; }
    public StudentRunner Students { get; }

    /// <summary>
    /// Every student of the profile: each regime's primary recipes for every seed, then the label curve (first seed)
    /// of regime C's recipe, then, with <paramref name="explore"/>, the exploratory recipes (first seed).
    /// </summary>
    public IReadOnlyList<StudentId> Plan(bool explore)
    {
        var runs = new List<StudentId>();
        foreach (int seed in profile.Seeds)
            foreach (var regime in profile.Regimes)
                foreach (var recipe in regime.Recipes.Take(regime.Primary))
                    runs.Add(new StudentId(regime, recipe, seed, regime.Labels));
        if (profile.Regimes.FirstOrDefault(r => r.Key == "C") is { } c && c.Recipes.FirstOrDefault(r => r.Name == profile.CurveRecipe) is { } curve)
            foreach (int labels in profile.CurveLabels)
                foreach (var recipe in new[] { c.Recipes.Single(r => r.Name == curve.BaselineName), curve })
                    runs.Add(new StudentId(c.AtLabels(labels), recipe, profile.Seeds[0], labels));
        if (explore)
            foreach (var regime in profile.Regimes)
                foreach (var recipe in regime.Recipes.Skip(regime.Primary))
                    runs.Add(new StudentId(regime, recipe, profile.Seeds[0], regime.Labels));
        return runs.DistinctBy(Students.Folder).ToArray();
    }

    public void Run(bool explore, int? limit = null, CancellationToken cancellation = default)
    {
        var runs = Plan(explore).Take(limit ?? int.MaxValue).ToList();
        for (int i = 0; i < runs.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var run = runs[i];
            if (run.Recipe.UsesTeachers)
                for (int k = 0; k < run.Regime.Teachers.Count; k++) Teachers.Result(run.Teacher(k));
            var result = Students.Result(run);
            log.Line($"[{i + 1}/{runs.Count}] {run.Regime.Key}/{run.Recipe.Name} labels={run.Labels} seed={run.Seed}: {result.TestAccuracy:P2}");
        }
    }
}
