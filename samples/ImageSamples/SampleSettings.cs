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
    public DistillationMode Mode { get; init; } = DistillationMode.OutputAverage;
    public double Temperature { get; init; } = 4;
    public double Alpha { get; init; } = 0.5;
    public double? TargetRecall { get; init; }
    /// <summary>Refuse the run when any image is unfit, instead of leaving it out.</summary>
    public bool Strict { get; init; }

    public const string Usage = """
        Options:
          --quick                 a small run (a few minutes) for tests and a first look
          --data DIR              real images: DIR/<class>/*.jpg|png, or DIR/train|val|test/<class>/...
                                  (default: synthetic images drawn into OUT/synthetic)
          --out OUT               output folder (default: out/<sample>)
          --teachers A.onnx,B.onnx  use these teacher models instead of training teachers
          --seed N                seed of the split, the synthetic images and all training (default 1)
          --images-per-class N    synthetic images per class (default 500; quick 200)
          --teacher-count K       teachers to train (default 4; quick 3)
          --teacher-width W       teacher base channels (default 16; quick 8)
          --teacher-epochs E      (default 40; quick 30)
          --teacher-fraction F    share of the training images each teacher sees (default 0.8)
          --student-width W       student base channels (default 8)
          --student-epochs E      (default 40; quick 30)
          --mode M                distillation mode (default output_avg)
          --temperature T         (default 4)
          --alpha A               weight of the hard-label loss (default 0.5)
          --target-recall R       recall the threshold must keep on validation (recall-first samples)
          --strict                stop on the first unfit image instead of leaving it out
        """;

    public static SampleSettings Parse(IReadOnlyList<string> args, SampleDefinition sample)
    {
        bool quick = args.Contains("--quick");
        var s = new SampleSettings
        {
            Quick = quick, Out = Path.Combine("out", sample.Name), ImagesPerClass = quick ? 200 : 500,
            TeacherCount = quick ? 3 : 4, TeacherWidth = quick ? 8 : 16, TeacherEpochs = quick ? 30 : 40, StudentEpochs = quick ? 30 : 40,
            TargetRecall = sample.DefaultTargetRecall,
        };
        for (int i = 0; i < args.Count; i++)
        {
            string flag = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{flag} needs a value.");
            int Int() => int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0
                ? v : throw new ArgumentException($"{flag} expects a positive whole number, got '{args[i]}'.");
            double Real() => double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)
                ? v : throw new ArgumentException($"{flag} expects a number, got '{args[i]}'.");
            s = flag switch
            {
                "--quick" => s,
                "--data" => s with { Data = Value() },
                "--out" => s with { Out = Value() },
                "--teachers" => s with { Teachers = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--seed" => s with { Seed = Int() },
                "--images-per-class" => s with { ImagesPerClass = Int() },
                "--teacher-count" => s with { TeacherCount = Int() },
                "--teacher-width" => s with { TeacherWidth = Int() },
                "--teacher-epochs" => s with { TeacherEpochs = Int() },
                "--teacher-fraction" => s with { TeacherFraction = InRange(Real(), 0, 1, flag, lowOpen: true) },
                "--student-width" => s with { StudentWidth = Int() },
                "--student-epochs" => s with { StudentEpochs = Int() },
                "--mode" => s with { Mode = DistillationModes.Parse(Value()) },
                "--temperature" => s with { Temperature = InRange(Real(), 0, 100, flag, lowOpen: true) },
                "--alpha" => s with { Alpha = InRange(Real(), 0, 1, flag) },
                "--target-recall" => s with { TargetRecall = InRange(Real(), 0, 1, flag, lowOpen: true) },
                "--strict" => s with { Strict = true },
                _ => throw new ArgumentException($"Unknown option '{flag}'.\n{Usage}"),
            };
        }
        foreach (var teacher in s.Teachers)
            if (!File.Exists(teacher))
                throw new FileNotFoundException($"--teachers: '{teacher}' does not exist.", teacher);
        return s;
    }

    private static double InRange(double value, double low, double high, string flag, bool lowOpen = false) =>
        (lowOpen ? value > low : value >= low) && value <= high
            ? value
            : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{flag} {value} is outside {(lowOpen ? "(" : "[")}{low}, {high}]."));
}
