using System.Diagnostics;
using System.Globalization;
using Mtkd.Samples.FashionMnist;

// The Fashion-MNIST study: dotnet run -c Release --project samples/FashionMnist -- [--quick|--standard|--full] [--out DIR] [--report DIR] [--data DIR] [--report-only]
string profileName = "standard", output = "", report = "", data = "";
bool reportOnly = false, epochs = false;
int? runLimit = null;
var overrides = new List<Func<StudyProfile, StudyProfile>>();
try
{
    for (int i = 0; i < args.Length; i++)
    {
        switch (args[i])
        {
            case "--quick" or "--standard" or "--full": profileName = args[i][2..]; break;
            case "--out": output = Value(ref i); break;
            case "--report": report = Value(ref i); break;
            case "--data": data = Value(ref i); break;
            case "--report-only": reportOnly = true; break;
            case "--epochs": epochs = true; break;
            case "--runs": runLimit = Int(ref i); break;
            case "--train-images": { int n = Int(ref i); overrides.Add(p => p with { TrainImages = n }); break; }
            case "--seeds": { int[] v = Value(ref i).Split(',').Select(x => ParseInt("--seeds", x)).ToArray(); overrides.Add(p => p with { Seeds = v }); break; }
            case "--teacher-arch": { string v = Value(ref i); overrides.Add(p => p with { TeacherArchitecture = v }); break; }
            case "--teacher-width": { int v = Int(ref i); overrides.Add(p => p with { TeacherWidth = v }); break; }
            case "--teacher-epochs": { int v = Int(ref i); overrides.Add(p => p with { TeacherEpochs = v }); break; }
            case "--student-arch": { string v = Value(ref i); overrides.Add(p => p with { StudentArchitecture = v }); break; }
            case "--student-width": { int v = Int(ref i); overrides.Add(p => p with { StudentWidth = v }); break; }
            case "--views": { int v = Int(ref i); overrides.Add(p => p with { Views = v }); break; }
            case "--passes": { int v = Int(ref i); overrides.Add(p => p with { PassesOverViews = v }); break; }
            case "--adjust": overrides.Add(p => p with { Adjustments = [false, true] }); break;
            case "--temperature": { double v = Double(ref i); overrides.Add(p => p with { Temperature = v }); break; }
            case "-h" or "--help":
                Console.WriteLine("""
                    Fashion-MNIST study: bagged teachers, every fusion method, distillation modes against a baseline student.
                      --quick | --standard | --full   profile (default: standard)
                      --out DIR        cache of trained teachers and students (default: out/study/PROFILE); rerun to resume
                      --report DIR     where report.md and the plots go (default: OUT/report)
                      --data DIR       Fashion-MNIST IDX .gz files (default: /usr/share/datasets/fashion-mnist)
                      --report-only    write the report from what the cache holds, training nothing
                      --epochs         print every epoch
                      --runs N         only the first N student runs of the plan (each seed's centre comes first)
                    Overrides of the profile, for exploring (each changes the cache keys it touches):
                      --train-images N  --seeds 1,2,3  --teacher-arch A  --teacher-width W  --teacher-epochs E
                      --student-arch A  --student-width W  --views V  --passes P  --temperature T
                      --adjust         also distil every centre configuration from knowledge-adjusted teacher logits
                    """);
                return 0;
            default:
                throw new ArgumentException($"Unknown argument '{args[i]}'; see --help.");
        }
    }
    var profile = overrides.Aggregate(StudyProfile.Parse(profileName), (p, change) => change(p));
    output = output == "" ? Path.Combine("out", "study", profile.Name) : output;
    report = report == "" ? Path.Combine(output, "report") : report;
    var log = new ConsoleStudyLog(epochs);
    var clock = Stopwatch.StartNew();
    var study = new Study(profile, output, data == "" ? null : data, log);
    if (!reportOnly) study.Run(runLimit);
    log.Line($"training done in {clock.Elapsed.TotalMinutes:F1} min; writing the report to {report}");
    var command = "dotnet run -c Release --project samples/FashionMnist -- " + string.Join(" ", args.Where(a => a != "--epochs"));
    new StudyReport(profile, study, log, command).Write(report, clock.Elapsed);
    log.Line($"done in {clock.Elapsed.TotalMinutes:F1} min: {Path.Combine(report, "report.md")}");
    return 0;
}
catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or FileNotFoundException or DirectoryNotFoundException)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

string Value(ref int i) => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");

int Int(ref int i)
{
    string flag = args[i];
    return ParseInt(flag, Value(ref i));
}

double Double(ref int i)
{
    string flag = args[i], value = Value(ref i);
    return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0
        ? d : throw new ArgumentException($"{flag} expects a positive number; got '{value}'.");
}

static int ParseInt(string flag, string value) =>
    int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
        ? n : throw new ArgumentException($"{flag} expects a positive whole number; got '{value}'.");
