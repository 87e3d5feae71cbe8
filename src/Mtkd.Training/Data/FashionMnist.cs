namespace Mtkd.Training.Data;

/// <summary>Which half of a dataset to load.</summary>
public enum DataSplit
{
    Train,
    Test,
}

/// <summary>
/// Fashion-MNIST (Xiao et al. 2017): 28×28 grey images of 10 clothing classes, 60,000 for training and 10,000 for
/// testing. Debian ships it in the package <c>dataset-fashion-mnist</c>.
/// </summary>
public static class FashionMnist
{
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";
    public const string DebianPackage = "dataset-fashion-mnist";

    public static readonly IReadOnlyList<string> ClassNames =
    [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ];

    /// <summary>Loads one split as float32 pixel/255 in NCHW ([N,1,28,28]).</summary>
    /// <param name="split">Training (60,000 images) or test (10,000).</param>
    /// <param name="directory">Folder with the four IDX .gz files; null means <see cref="DefaultDirectory"/>.</param>
    public static ImageDataset Load(DataSplit split, string? directory = null)
    {
        directory ??= DefaultDirectory;
        string prefix = split == DataSplit.Train ? "train" : "t10k";
        string imagesPath = Path.Combine(directory, $"{prefix}-images-idx3-ubyte.gz");
        string labelsPath = Path.Combine(directory, $"{prefix}-labels-idx1-ubyte.gz");
        string hint = directory == DefaultDirectory
            ? $"Install it with: apt-get install {DebianPackage}"
            : $"Expected the Fashion-MNIST IDX files there (Debian package {DebianPackage} installs them in {DefaultDirectory}).";

        var (images, classes) = IdxReader.ReadLabelledImages(imagesPath, labelsPath, ClassNames.Count, hint);
        var pixels = new float[images.Data.Length];
        for (int i = 0; i < pixels.Length; i++)
            pixels[i] = images.Data[i] / 255f;
        return new ImageDataset(pixels, classes, 1, images.Dimensions[1], images.Dimensions[2], ClassNames);
    }
}
