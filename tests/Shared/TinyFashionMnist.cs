using Mtkd.Training.Data;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Engine;

namespace Mtkd.Tests;

/// <summary>
/// Real Fashion-MNIST images in small numbers, and two teachers trained on them for one epoch and exported to ONNX:
/// enough for the flow to run end to end in seconds. Built once for every test class in the collection.
/// </summary>
public sealed class TinyFashionMnist : IDisposable
{
    public TinyFashionMnist()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("mtkd-tiny-").FullName;
        Train = FashionMnist.Load(DataSplit.Train).Take(600);
        Test = FashionMnist.Load(DataSplit.Test).Take(300);
        TeacherPaths = Enumerable.Range(0, 2)
            .Select(i => TrainingFixtures.OneEpochTeacher(Train.RandomSubset(0.7, seed: i), i, Path.Combine(Directory, $"teacher-{i}.onnx"))).ToArray();
    }

    public string Directory { get; }
    public ImageDataset Train { get; }
    public ImageDataset Test { get; }
    public IReadOnlyList<string> TeacherPaths { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

[CollectionDefinition(Name)]
public sealed class TinyFashionMnistCollection : ICollectionFixture<TinyFashionMnist>
{
    public const string Name = "Tiny Fashion-MNIST";
}
