using Mtkd.Training.Data;

namespace Mtkd.Samples.FashionMnist;

/// <summary>Fashion-MNIST as the regimes slice it: the first N training images keep their labels, later ones can serve unlabelled.</summary>
public sealed class StudyData
{
    private readonly Dictionary<int, ImageDataset> labeled = [];
    private readonly int? unlabeledImages;

    public StudyData(StudyProfile profile, string? directory)
    {
        Train = Mtkd.Training.Data.FashionMnist.Load(DataSplit.Train, directory);
        var test = Mtkd.Training.Data.FashionMnist.Load(DataSplit.Test, directory);
        Test = profile.TestImages is { } m ? test.Take(m) : test;
        unlabeledImages = profile.UnlabeledImages;
    }

    /// <summary>All 60,000 training images (the files are already shuffled).</summary>
    public ImageDataset Train { get; }

    public ImageDataset Test { get; }

    /// <summary>The first <paramref name="count"/> training images, with their labels.</summary>
    public ImageDataset Labeled(int count)
    {
        if (!labeled.TryGetValue(count, out var set))
            labeled[count] = set = Train.Take(count);
        return set;
    }

    /// <summary>The first <paramref name="count"/> training images labelled, followed by the later ones (as many as the profile allows) without labels.</summary>
    public ImageDataset WithUnlabeled(int count)
    {
        int end = unlabeledImages is { } u ? Math.Min(Train.Count, count + u) : Train.Count;
        return Labeled(count).Concat(Train.Subset(Enumerable.Range(count, end - count).ToArray()).WithoutLabels());
    }
}
