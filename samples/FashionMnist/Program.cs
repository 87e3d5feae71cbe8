using System.Diagnostics;
using System.Globalization;
using Mtkd.Samples.FashionMnist;

// The Fashion-MNIST study: dotnet run -c Release --project samples/FashionMnist -- [--quick|--standard] [--out DIR] [--report DIR] [--data DIR] [--report-only]
string profileName = "standard", output = "", report = "", data = "";
bool reportOnly = false, epochs = false, explore = false;
int? runLimit = null;
int[]? seeds = null;
string[]? regimes = null;
int[]? curveLabels = null;
int? teacherRandAugment = null;
try
{
    for (int i = 0; i < args.Length; i++)
    {
        switch (args[i])
        {
            case "--quick" or "--standard": profileName = args[i][2..]; break;
            case "--out": output = Value(ref i); break;
            case "--report": report = Value(ref i); break;
            case "--data": data = Value(ref i); break;
            case "--report-only": reportOnly = true; break;
            case "--explore": explore = true; break;
            case "--epochs": epochs = true; break;
            case "--runs": runLimit = ParseInt("--runs", Value(ref i)); break;
            case "--seeds": seeds = Value(ref i).Split(',').Select(x => ParseInt("--seeds", x)).ToArray(); break;
            case "--regimes": regimes = Value(ref i).Split(','); break;
            case "--curve-labels": curveLabels = Value(ref i).Split(',').Select(x => ParseInt("--curve-labels", x)).ToArray(); break;
            case "--teacher-rand-augment": teacherRandAugment = ParseInt("--teacher-rand-augment", Value(ref i)); break;
            case "-h" or "--help":
                Console.WriteLine("""
                    Fashion-MNIST study: does a distilled student beat the same network trained on the labels? Three regimes
                    (A same complexity, B compression, C few labels and many unlabelled images), several recipes each, over seeds.
                      --quick | --standard   profile (default: standard)
                      --out DIR        cache of trained teachers and students (default: out/study/PROFILE); rerun to resume
                      --report DIR     where report.md, summary.json and the plots go (default: OUT/report)
                      --data DIR       Fashion-MNIST IDX .gz files (default: /usr/share/datasets/fashion-mnist)
                      --report-only    write the report from what the cache holds, training nothing
                      --explore        also the exploratory recipes (first seed only); the report shows them whenever cached
                      --epochs         print every epoch
                      --runs N         only the first N student runs of the plan
                      --seeds 1,2,3    other seeds than the profile's
                      --regimes A,C    only these regimes
                      --curve-labels 1000,20000   other label counts for regime C's curve
                      --teacher-rand-augment N   pilot: teachers also train with RandAugment, N operations at magnitude 9
                    """);
                return 0;
            default:
                throw new ArgumentException($"Unknown argument '{args[i]}'; see --help.");
        }
    }
    var profile = StudyProfile.Parse(profileName);
    if (seeds is not null) profile = profile with { Seeds = seeds };
    if (curveLabels is not null) profile = profile with { CurveLabels = curveLabels };
    if (regimes is not null)
    {
        var unknown = regimes.Except(profile.Regimes.Select(r => r.Key)).ToArray();
        if (unknown.Length > 0) throw new ArgumentException($"--regimes: no regime {string.Join(", ", unknown)} in the {profile.Name} profile ({string.Join(", ", profile.Regimes.Select(r => r.Key))}).");
        profile = profile with { Regimes = profile.Regimes.Where(r => regimes.Contains(r.Key)).ToArray() };
    }
    if (teacherRandAugment is { } ra)
        profile = profile with { Regimes = profile.Regimes.Select(r => r with { Teachers = r.Teachers with { RandAugmentOps = ra } }).ToArray() };
    output = output == "" ? Path.Combine("out", "study", profile.Name) : output;
    report = report == "" ? Path.Combine(output, "report") : report;
    var log = new ConsoleStudyLog(epochs);
    var clock = Stopwatch.StartNew();
    var study = new Study(profile, output, data == "" ? null : data, log);
    if (!reportOnly) study.Run(explore, runLimit);
    log.Line($"training done in {clock.Elapsed.TotalMinutes:F1} min; writing the report to {report}");
    var command = "dotnet run -c Release --project samples/FashionMnist -- " + string.Join(" ", args.Where(a => a != "--epochs"));
    new StudyReport(study, log, command).Write(report, clock.Elapsed);
    log.Line($"done in {clock.Elapsed.TotalMinutes:F1} min: {Path.Combine(report, "report.md")}");
    return 0;
}
catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or FileNotFoundException or DirectoryNotFoundException)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

string Value(ref int i) => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");

static int ParseInt(string flag, string value) =>
    int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
        ? n : throw new ArgumentException($"{flag} expects a positive whole number; got '{value}'.");
