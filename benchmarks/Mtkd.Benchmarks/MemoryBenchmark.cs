using System.Diagnostics;
using System.Globalization;
using Mtkd.Samples.Corrosion;
using Mtkd.Samples.Images;
using Mtkd.Training.Data;
using Mtkd.Training.Networks;
using Mtkd.Training.Engine;

namespace Mtkd.Benchmarks;

/// <summary>
/// Memory and throughput of the out-of-core data path. <c>photos</c>: N synthetic corrosion photographs at 240×320
/// decoded into the cache and one teacher trained on them; prints the process's peak resident memory (VmHWM), so run
/// it in a fresh process. <c>fashion-mnist</c>: training throughput from the IDX cache on disk against the in-memory
/// arrays, alternating in one process so both see the same machine state.
/// </summary>
public static class MemoryBenchmark
{
    public sealed record PhotosReport(int Photos, int Height, int Width, double? DecodeImagesPerSecond, bool CacheReused, int Epochs,
        double TrainImagesPerSecond, double PeakResidentGiB, double PixelsAsFloatGiB);

    public sealed record FashionMnistReport(int Images, int Rounds, double[] InMemoryImagesPerSecond, double[] CacheImagesPerSecond, double Ratio);

    public static PhotosReport Photos(int count, int epochs, string folder, Action<string> log)
    {
        const int height = 240, width = 320;
        var sample = CorrosionSample.Definition with { Title = "memory benchmark" };
        log($"Drawing {count:N0} SYNTHETIC corrosion photographs ({width}×{height}) into {folder} (reused when already drawn).");
        string root = SyntheticFolder.Ensure(Path.Combine(folder, "images"), sample, count / 2, seed: 1);
        var source = (ImageFileSource)DatasetSource.Resolve(root);
        var entries = source.Files("train").Concat(source.Files("test")).ToArray();
        var clock = Stopwatch.StartNew();
        var cached = ImageCache.LoadImages(Path.Combine(folder, "cache"), entries, source.ClassNames, new ImageFormat(3, height, width), log);
        double decode = entries.Length / clock.Elapsed.TotalSeconds;
        log(cached.Rebuilt ? $"Decoded {cached.Images.Count:N0} images at {decode:N0} images/s." : "Reused the cache.");

        using var network = NetworkTrainer.CreateNetwork(SampleNetworks.Teacher(16), cached.Images, seed: 1);
        var options = new TrainerOptions { Epochs = epochs, BatchSize = 32, LearningRate = 3e-3, Augmentation = new AugmentationOptions { HorizontalFlip = true, ShiftPixels = 12 } };
        clock.Restart();
        NetworkTrainer.TrainSupervised(network, cached.Images, options);
        double train = (double)cached.Images.Count * epochs / clock.Elapsed.TotalSeconds;
        return new PhotosReport(cached.Images.Count, height, width, cached.Rebuilt ? decode : null, !cached.Rebuilt, epochs, train,
            ProcessMemory.PeakResidentGiB(), (double)cached.Images.Count * cached.Images.ImageSize * 4 / (1L << 30));
    }

    public static FashionMnistReport FashionMnist(int images, int rounds, string cacheRoot, Action<string> log)
    {
        var inMemory = Training.Data.FashionMnist.Load(DataSplit.Train).Take(images);
        var source = (IdxSource)DatasetSource.Resolve("fashion-mnist");
        var (imagesPath, labelsPath) = source.IdxFiles("train");
        var fromCache = ImageCache.LoadIdx(imagesPath, labelsPath, source.ClassNames, cacheRoot, log).Images.Take(images);
        if (!inMemory.ReadImage(images - 1).SequenceEqual(fromCache.ReadImage(images - 1)))
            throw new InvalidOperationException("The cache's pixels differ from the in-memory ones; the comparison would mean nothing.");
        var options = new TrainerOptions { Epochs = 1, BatchSize = 128, Augmentation = new AugmentationOptions { ShiftPixels = 2, HorizontalFlip = true } };
        double Epoch(ImageDataset data)
        {
            using var network = NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), data, seed: 1);
            var clock = Stopwatch.StartNew();
            NetworkTrainer.TrainSupervised(network, data, options);
            return data.Count / clock.Elapsed.TotalSeconds;
        }
        Epoch(inMemory.Take(Math.Min(images, 2048))); // warm-up: TorchSharp's first steps are slower
        var memory = new double[rounds];
        var cache = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            // Alternating, and swapping which goes first, so drift in the machine's speed falls on both.
            if (r % 2 == 0) { memory[r] = Epoch(inMemory); cache[r] = Epoch(fromCache); }
            else { cache[r] = Epoch(fromCache); memory[r] = Epoch(inMemory); }
            log(string.Create(CultureInfo.InvariantCulture, $"round {r + 1}: in memory {memory[r]:N0} images/s, from the cache {cache[r]:N0} images/s"));
        }
        return new FashionMnistReport(images, rounds, memory, cache, cache.Sum() / memory.Sum());
    }
}
