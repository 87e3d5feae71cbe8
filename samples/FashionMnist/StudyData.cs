using Mtkd.Training.Data;

namespace Mtkd.Samples.FashionMnist;

/// <summary>The profile's slice of Fashion-MNIST: the first N training images (the files are already shuffled) and the test set.</summary>
public sealed class StudyData
{
    public StudyData(StudyProfile profile, string? directory)
    {
        var train = Mtkd.Training.Data.FashionMnist.Load(DataSplit.Train, directory);
        var test = Mtkd.Training.Data.FashionMnist.Load(DataSplit.Test, directory);
        Train = profile.TrainImages is { } n ? train.Take(n) : train;
        Test = profile.TestImages is { } m ? test.Take(m) : test;
    }

    public ImageDataset Train { get; }
    public ImageDataset Test { get; }
}
