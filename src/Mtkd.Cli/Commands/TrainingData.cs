using Mtkd.Training.Data;

namespace Mtkd.Cli.Commands;

/// <summary>The training, validation and test images a training command works on.</summary>
internal sealed record TrainingData(ImageDataset Train, ImageDataset? Validation, ImageDataset Test, string Directory, int[] TrainRows)
{
    /// <summary>The folder behind a --data value: "fashion-mnist" is the Debian package's, anything else a folder of IDX files.</summary>
    public static string DataDirectory(string data) => data == "fashion-mnist" ? FashionMnist.DefaultDirectory : data;

    /// <summary>
    /// Loads Fashion-MNIST ("fashion-mnist" or a folder of its IDX files) and holds out a seeded share of the
    /// training images for validation. <see cref="TrainRows"/> maps each training image to its row in the full training split.
    /// </summary>
    /// <param name="data">"fashion-mnist" or a folder.</param>
    /// <param name="validationFraction">Share of the training images held out.</param>
    /// <param name="seed">Seed of the hold-out draw.</param>
    /// <param name="quick">Only the first 2,000 training and 1,000 test images: a run small enough for tests.</param>
    public static TrainingData Load(string data, double validationFraction, int seed, bool quick = false)
    {
        string directory = DataDirectory(data);
        var train = FashionMnist.Load(DataSplit.Train, directory);
        var test = FashionMnist.Load(DataSplit.Test, directory);
        if (quick)
            (train, test) = (train.Take(2000), test.Take(1000));
        if (validationFraction is < 0 or >= 1)
            throw new ArgumentException($"--validation-fraction {validationFraction} is not in [0, 1).");
        if (validationFraction == 0)
            return new TrainingData(train, null, test, directory, Enumerable.Range(0, train.Count).ToArray());
        var (trainRows, validationRows) = train.HoldOutRows(validationFraction, seed);
        return new TrainingData(train.Subset(trainRows), train.Subset(validationRows), test, directory, trainRows);
    }
}
