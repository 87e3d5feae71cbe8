using System.CommandLine;
using System.Globalization;
using Mtkd.Training.Distillation;

namespace Mtkd.Samples.Images;

/// <summary>The command line of a sample, with the sizes of its profile.</summary>
public sealed record SampleSettings
{
    public bool Quick { get; init; }
    /// <summary>Folder of real images; null: the synthetic images.</summary>
    public string? Data { get; init; }
    public required string Out { get; init; }
    /// <summary>Teacher ONNX files to use instead of training teachers.</summary>
    public IReadOnlyList<string> Teachers { get; init; } = [];
    public int Seed { get; init; } = 1;
    /// <summary>Synthetic images drawn per class.</summary>
    public int ImagesPerClass { get; init; }
    public int TeacherCount { get; init; }
    public int TeacherWidth { get; init; }
    public int TeacherEpochs { get; init; }
    public double TeacherFraction { get; init; } = 0.8;
    public int StudentWidth { get; init; } = 8;
    public int StudentEpochs { get; init; }
    public DistillationMethod Method { get; init; } = new Mtkd.Training.Distillation.Methods.OutputAverage();
    public double Temperature { get; init; } = 4;
    public double Alpha { get; init; } = 0.5;
    public double? TargetRecall { get; init; }
    /// <summary>Refuse the run when any image is unfit, instead of leaving it out.</summary>
    public bool Strict { get; init; }

    /// <summary>
    /// The sample's command line, on System.CommandLine with the mtkd conventions (see CommandLineRun): the quick
    /// profile's sizes apply where a flag is not given.
    /// </summary>
    public static RootCommand Command(SampleDefinition sample, Action<SampleSettings> run)
    {
        var quick = new Option<bool>("--quick") { Description = "A small run (a few minutes) for tests and a first look." };
        var data = new Option<string?>("--data") { Description = "Real images: DIR/<class>/*.jpg|png, or DIR/train|val|test/<class>/... (default: synthetic images drawn into OUT/synthetic)." };
        var output = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => Path.Combine("out", sample.Name) };
        var teachers = new Option<string?>("--teachers") { Description = "Use these teacher models (A.onnx,B.onnx) instead of training teachers." };
        var seed = new Option<int>("--seed") { Description = "Seed of the split, the synthetic images and all training.", DefaultValueFactory = _ => 1 };
        var imagesPerClass = new Option<int?>("--images-per-class") { Description = "Synthetic images per class (default 500; quick 200)." };
        var teacherCount = new Option<int?>("--teacher-count") { Description = "Teachers to train (default 4; quick 3)." };
        var teacherWidth = new Option<int?>("--teacher-width") { Description = "Teacher base channels (default 16; quick 8)." };
        var teacherEpochs = new Option<int?>("--teacher-epochs") { Description = "Teacher epochs (default 40; quick 30)." };
        var teacherFraction = new Option<double>("--teacher-fraction") { Description = "Share of the training images each teacher sees.", DefaultValueFactory = _ => 0.8 };
        var studentWidth = new Option<int>("--student-width") { Description = "Student base channels.", DefaultValueFactory = _ => 8 };
        var studentEpochs = new Option<int?>("--student-epochs") { Description = "Student epochs (default 40; quick 30)." };
        var mode = new Option<string>("--method", "--mode") { Description = $"Distillation method: {string.Join(", ", DistillationMethods.Names)}.", DefaultValueFactory = _ => "output_avg" };
        var temperature = new Option<double>("--temperature") { Description = "Distillation temperature T.", DefaultValueFactory = _ => 4 };
        var alpha = new Option<double>("--alpha") { Description = "Weight of the hard-label loss.", DefaultValueFactory = _ => 0.5 };
        var targetRecall = new Option<double?>("--target-recall") { Description = "Recall the threshold must keep on validation (recall-first samples)." };
        var strict = new Option<bool>("--strict") { Description = "Stop on the first unfit image instead of leaving it out." };
        var command = new RootCommand($"{sample.Title}. Usage: dotnet run -c Release --project samples/{sample.Name} -- [--quick] [--data DIR] --out OUT")
        {
            quick, data, output, teachers, seed, imagesPerClass, teacherCount, teacherWidth, teacherEpochs, teacherFraction, studentWidth, studentEpochs,
            mode, temperature, alpha, targetRecall, strict,
        };
        command.SetAction(parse =>
        {
            bool q = parse.GetValue(quick);
            int Positive(Option<int?> option, int quickValue, int value) =>
                parse.GetValue(option) is { } v ? Shared.CommandLineRun.Positive(v, option.Name) : q ? quickValue : value;
            var settings = new SampleSettings
            {
                Quick = q, Data = parse.GetValue(data), Out = parse.GetValue(output)!,
                Teachers = parse.GetValue(teachers)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [],
                Seed = Shared.CommandLineRun.Positive(parse.GetValue(seed), "--seed"),
                ImagesPerClass = Positive(imagesPerClass, 200, 500), TeacherCount = Positive(teacherCount, 3, 4),
                TeacherWidth = Positive(teacherWidth, 8, 16), TeacherEpochs = Positive(teacherEpochs, 30, 40), StudentEpochs = Positive(studentEpochs, 30, 40),
                TeacherFraction = InRange(parse.GetValue(teacherFraction), 0, 1, "--teacher-fraction", lowOpen: true),
                StudentWidth = Shared.CommandLineRun.Positive(parse.GetValue(studentWidth), "--student-width"),
                Method = DistillationMethods.Create(parse.GetValue(mode)!),
                Temperature = InRange(parse.GetValue(temperature), 0, 100, "--temperature", lowOpen: true),
                Alpha = InRange(parse.GetValue(alpha), 0, 1, "--alpha"),
                TargetRecall = parse.GetValue(targetRecall) is { } r ? InRange(r, 0, 1, "--target-recall", lowOpen: true) : sample.DefaultTargetRecall,
                Strict = parse.GetValue(strict),
            };
            foreach (var teacher in settings.Teachers)
                if (!File.Exists(teacher))
                    throw new FileNotFoundException($"--teachers: '{teacher}' does not exist.", teacher);
            run(settings);
            return 0;
        });
        return command;
    }

    // Written so that NaN fails too.
    private static double InRange(double value, double low, double high, string flag, bool lowOpen = false) =>
        (lowOpen ? value > low : value >= low) && value <= high
            ? value
            : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{flag} {value} is outside {(lowOpen ? "(" : "[")}{low}, {high}]."));
}
