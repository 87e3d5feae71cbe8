using System.CommandLine;
using System.Diagnostics;
using Mtkd.Samples.FashionMnist;
using Mtkd.Samples.Shared;

// The Fashion-MNIST study: dotnet run -c Release --project samples/FashionMnist -- [--quick|--standard] [--out DIR] [--report DIR] [--data DIR] [--report-only]
var quick = new Option<bool>("--quick") { Description = "The quick profile: a small plan for tests and a first look." };
var standard = new Option<bool>("--standard") { Description = "The standard profile (the default)." };
var output = new Option<string?>("--out") { Description = "Cache of trained teachers and students (default: out/study/PROFILE); rerun to resume." };
var report = new Option<string?>("--report") { Description = "Where report.md, summary.json and the plots go (default: OUT/report)." };
var data = new Option<string?>("--data") { Description = "Fashion-MNIST IDX .gz files (default: /usr/share/datasets/fashion-mnist)." };
var reportOnly = new Option<bool>("--report-only") { Description = "Write the report from what the cache holds, training nothing." };
var explore = new Option<bool>("--explore") { Description = "Also the exploratory recipes (first seed only); the report shows them whenever cached." };
var epochs = new Option<bool>("--epochs") { Description = "Print every epoch." };
var runs = new Option<int?>("--runs") { Description = "Only the first N student runs of the plan." };
var seeds = new Option<string?>("--seeds") { Description = "Other seeds than the profile's: 1,2,3." };
var regimes = new Option<string?>("--regimes") { Description = "Only these regimes: A,C." };
var curveLabels = new Option<string?>("--curve-labels") { Description = "Other label counts for regime C's curve: 1000,20000." };
var teacherRandAugment = new Option<int?>("--teacher-rand-augment") { Description = "Pilot: teachers also train with RandAugment, N operations at magnitude 9." };
var root = new RootCommand("""
    Fashion-MNIST study: does a distilled student beat the same network trained on the labels? Three regimes
    (A same complexity, B compression, C few labels and many unlabelled images), several recipes each, over seeds.
    """)
{
    quick, standard, output, report, data, reportOnly, explore, epochs, runs, seeds, regimes, curveLabels, teacherRandAugment,
};
root.SetAction(parse =>
{
    if (parse.GetValue(quick) && parse.GetValue(standard))
        throw new ArgumentException("--quick and --standard are two profiles: give one.");
    int? runLimit = parse.GetValue(runs) is { } n ? CommandLineRun.Positive(n, "--runs") : null;
    var profile = StudyProfile.Parse(parse.GetValue(quick) ? "quick" : "standard");
    if (parse.GetValue(seeds) is { } s) profile = profile with { Seeds = CommandLineRun.PositiveInts(s, "--seeds") };
    if (parse.GetValue(curveLabels) is { } c) profile = profile with { CurveLabels = CommandLineRun.PositiveInts(c, "--curve-labels") };
    if (parse.GetValue(regimes)?.Split(',') is { } wanted)
    {
        var unknown = wanted.Except(profile.Regimes.Select(r => r.Key)).ToArray();
        if (unknown.Length > 0) throw new ArgumentException($"--regimes: no regime {string.Join(", ", unknown)} in the {profile.Name} profile " +
            $"({string.Join(", ", profile.Regimes.Select(r => r.Key))}).");
        profile = profile with { Regimes = profile.Regimes.Where(r => wanted.Contains(r.Key)).ToArray() };
    }
    if (parse.GetValue(teacherRandAugment) is { } operations)
    {
        int ra = CommandLineRun.Positive(operations, "--teacher-rand-augment");
        profile = profile with { Regimes = profile.Regimes.Select(r => r with { Teachers = r.Teachers with { RandAugmentOps = ra } }).ToArray() };
    }
    string outputFolder = parse.GetValue(output) ?? Path.Combine("out", "study", profile.Name);
    string reportFolder = parse.GetValue(report) ?? Path.Combine(outputFolder, "report");
    var log = new ConsoleStudyLog(parse.GetValue(epochs));
    var clock = Stopwatch.StartNew();
    var study = new Study(profile, outputFolder, parse.GetValue(data), log);
    if (!parse.GetValue(reportOnly)) study.Run(parse.GetValue(explore), runLimit);
    log.Line($"training done in {clock.Elapsed.TotalMinutes:F1} min; writing the report to {reportFolder}");
    var command = "dotnet run -c Release --project samples/FashionMnist -- " + string.Join(" ", args.Where(a => a != "--epochs"));
    new StudyReport(study, log, command).Write(reportFolder, clock.Elapsed);
    log.Line($"done in {clock.Elapsed.TotalMinutes:F1} min: {Path.Combine(reportFolder, "report.md")}");
    return 0;
});
return CommandLineRun.Invoke(root, args);
