namespace Mtkd.Samples.FashionMnist;

/// <summary>One finished epoch as the plots need it.</summary>
public sealed record EpochPoint(int Epoch, double TrainLoss, double TrainAccuracy, double TestAccuracy, double Seconds);

/// <summary>A trained teacher: what it scored and what it cost.</summary>
public sealed record TeacherResult(int Index, double Fraction, int Seed, double TestAccuracy, long Parameters, long MultiplyAccumulates,
    double Seconds, EpochPoint[] History);

/// <summary>A trained student; <see cref="Predictions"/> are its test-set classes, for the confusion matrix.</summary>
public sealed record StudentResult(string Mode, int Teachers, double Fraction, double Alpha, int Seed, double TestAccuracy,
    long Parameters, long MultiplyAccumulates, double Seconds, EpochPoint[] History, int[] Predictions);
