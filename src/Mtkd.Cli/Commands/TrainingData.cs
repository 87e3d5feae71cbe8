using Mtkd.Training.Data;

namespace Mtkd.Cli.Commands;

/// <summary>The training, validation and test images a training command works on.</summary>
internal sealed record TrainingData(ImageDataset Train, ImageDataset? Validation, ImageDataset Test, string Directory, int[] TrainRows, int SplitRows)
{
    /// <summary>The folder behind a --data value: "fashion-mnist" is the Debian package's, anything else a folder of IDX files.</summary>
    public static string DataDirectory(string data) => data == "fashion-mnist" ? FashionMnist.DefaultDirectory : data;

    /// <summary>
    /// Loads Fashion-MNIST ("fashion-mnist" or a folder of its IDX files) and holds out a seeded share of the
    /// training images for validation. <see cref="TrainRows"/> maps each training image to its row in the training split
    /// (of <see cref="SplitRows"/> rows: the row ids of <c>mtkd score --split train</c>).
    /// </summary>
    /// <param name="data">"fashion-mnist" or a folder.</param>
    /// <param name="validationFraction">Share of the training images held out.</param>
    /// <param name="seed">Seed of the hold-out draw.</param>
    /// <param name="quick">Only the first 2,000 training and 1,000 test images: a run small enough for tests.</param>
    /// <param name="labels">
    /// Keep the labels of the first N training images only; the others train without theirs (for distillation,
    /// which teaches them through the teachers). Validation is held out from the labelled images. Null: all labelled.
    /// </param>
    public static TrainingData Load(string data, double validationFraction, int seed, bool quick = false, int? labels = null)
    {
        string directory = DataDirectory(data);
        var train = FashionMnist.Load(DataSplit.Train, directory);
        var test = FashionMnist.Load(DataSplit.Test, directory);
        if (quick)
            (train, test) = (train.Take(2000), test.Take(1000));
        if (validationFraction is < 0 or >= 1)
            throw new ArgumentException($"--validation-fraction {validationFraction} is not in [0, 1).");
        if (labels is { } n && (n < 1 || n > train.Count))
            throw new ArgumentException($"--labels {n} is not between 1 and the {train.Count:N0} training images.");
        int labeled = labels ?? train.Count;
        var labeledPart = labeled == train.Count ? train : train.Take(labeled);
        var trainSet = labeledPart;
        int[] trainRows = Enumerable.Range(0, labeled).ToArray();
        ImageDataset? validation = null;
        if (validationFraction > 0)
        {
            (trainRows, var validationRows) = labeledPart.HoldOutRows(validationFraction, seed);
            (trainSet, validation) = (labeledPart.Subset(trainRows), labeledPart.Subset(validationRows));
        }
        var unlabeledRows = Enumerable.Range(labeled, train.Count - labeled).ToArray();
        if (unlabeledRows.Length > 0)
            trainSet = trainSet.Concat(train.Subset(unlabeledRows).WithoutLabels());
        return new TrainingData(trainSet, validation, test, directory, [.. trainRows, .. unlabeledRows], train.Count);
    }
}
