using Mtkd.Training.Data;

namespace Mtkd.Cli.Commands;

/// <summary>The training, validation and test images a training command works on.</summary>
internal sealed record TrainingData(ImageDataset Train, ImageDataset? Validation, ImageDataset Test, string Directory, int[] TrainRows, int SplitRows)
{
    /// <summary>How image files were resized to the input (for the exported models' metadata); null for IDX data.</summary>
    public ResizeMode? Resize { get; init; }

    /// <summary>How pixels were scaled (for the exported models' metadata).</summary>
    public string Normalization { get; init; } = "pixel/255";

    /// <summary>
    /// Reads the training and test splits of a source through the cache and holds out a seeded share of the labelled
    /// training images for validation (or takes the source's own val split). <see cref="TrainRows"/> maps each training
    /// image to its row in the training split (of <see cref="SplitRows"/> rows: the row ids of <c>mtkd score --split train</c>);
    /// images added with <paramref name="unlabeled"/> have row −1.
    /// </summary>
    /// <param name="request">The data and how to decode it.</param>
    /// <param name="validationFraction">Share of the labelled training images held out; 0 for none.</param>
    /// <param name="seed">Seed of the hold-out draw.</param>
    /// <param name="quick">Only the first 2,000 training and 1,000 test images: a run small enough for tests.</param>
    /// <param name="labels">
    /// Keep the labels of the first N labelled training images only; the others train without theirs (for distillation,
    /// which teaches them through the teachers). Validation is held out from the labelled images. Null: all labelled.
    /// </param>
    /// <param name="unlabeled">More images, without labels, appended to the training images (distillation only).</param>
    public static TrainingData Load(DataRequest request, double validationFraction, int seed, bool quick = false, int? labels = null, DataRequest? unlabeled = null)
    {
        if (!(validationFraction is >= 0 and < 1)) // written so that NaN fails too
            throw new ArgumentException($"--validation-fraction {validationFraction} is not in [0, 1).");
        var source = request.Source;
        if (!source.HasLabels)
            throw new ArgumentException($"--data {source.Location} holds no labels (no class folders or label column); give labelled data as --data and unlabelled images as --unlabeled.");
        if (!source.HasSplit("test"))
            throw new ArgumentException($"--data {source.Location} has no test split; add ROOT/test/<class>/…, or give a folder without split folders " +
                $"(a seeded {DatasetSource.TestFraction:P0} of each class is then the test split).");
        var train = request.Load("train");
        var test = request.Load("test");
        if (quick)
            (train, test) = (train.Take(2000), test.Take(1000));

        // --labels N keeps the labels of the first N labelled images; the rest of the split trains unlabelled.
        var labeledRows = Enumerable.Range(0, train.Count).Where(i => train.Labels[i] != ImageDataset.Unlabeled).ToArray();
        if (labels is { } n && (n < 1 || n > labeledRows.Length))
            throw new ArgumentException($"--labels {n} is not between 1 and the {labeledRows.Length:N0} labelled training images.");
        if (labels is { } keep) labeledRows = labeledRows[..keep];
        var labeledSet = new HashSet<int>(labeledRows);
        var unlabeledRows = Enumerable.Range(0, train.Count).Where(i => !labeledSet.Contains(i)).ToArray();

        int[] trainRows = labeledRows;
        ImageDataset? validation = null;
        if (validationFraction > 0 && source.HasSplit("val"))
            validation = request.Load("val", train.ClassNames);
        else if (validationFraction > 0)
        {
            var (kept, held) = train.Subset(labeledRows).HoldOutRows(validationFraction, seed);
            trainRows = kept.Select(i => labeledRows[i]).ToArray();
            validation = train.Subset(held.Select(i => labeledRows[i]).ToArray());
        }
        var trainSet = train.Subset(trainRows);
        if (unlabeledRows.Length > 0)
            trainSet = trainSet.Concat(train.Subset(unlabeledRows).WithoutLabels());
        int[] rowIds = [.. trainRows, .. unlabeledRows];
        if (unlabeled is not null)
        {
            var extra = unlabeled.Load("train", train.ClassNames);
            if (quick) extra = extra.Take(2000);
            trainSet = trainSet.Concat(extra.WithoutLabels());
            rowIds = [.. rowIds, .. Enumerable.Repeat(-1, extra.Count)];
        }
        return new TrainingData(trainSet, validation, test, source.Location, rowIds, train.Count)
        {
            Resize = source.NativeFormat is null ? request.Format().Resize : null,
            Normalization = request.NormalizationDescription,
        };
    }
}
