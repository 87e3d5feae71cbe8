namespace Mtkd.Samples.FashionMnist;

/// <summary>Runs every configuration of a profile that the cache lacks, then writes the report from the cache.</summary>
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
        Teachers = new TeacherRunner(profile, Data, cache, log);
        Students = new StudentRunner(profile, Data, cache, Teachers, log);
    }

    public StudyData Data { get; }
    public TeacherRunner Teachers { get; }
    public StudentRunner Students { get; }

    /// <summary>Trains whatever is missing, in plan order.</summary>
    public void Run(int? limit = null, CancellationToken cancellation = default)
    {
        var runs = StudyPlan.Students(profile).Take(limit ?? int.MaxValue).ToList();
        for (int i = 0; i < runs.Count; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            var run = runs[i];
            if (!run.IsBaseline)
            {
                var set = StudyPlan.TeacherSetOf(profile, run);
                for (int k = 0; k < set.Count; k++) Teachers.Result(set, k);
            }
            var result = Students.Result(run);
            log.Line($"[{i + 1}/{runs.Count}] {run}: {result.TestAccuracy:P2}");
        }
    }
}
