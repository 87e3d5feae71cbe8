using System.Diagnostics;
using System.Globalization;
using Mtkd.Training;
using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Engine;
using Spectre.Console;
using static TorchSharp.torch;

namespace Mtkd.Benchmarks;

/// <summary>
/// One distillation epoch (output_avg, cnn-small, batch 128, Fashion-MNIST, soft labels in memory) through
/// NetworkTrainer.Distill, against a bare TorchSharp loop over pre-made batch tensors doing the same work
/// (forward, the same loss, backward, Adam step). The two alternate epoch by epoch in one process (a bare epoch
/// runs as each Distill epoch ends), so both see the same machine; after a warm-up round, the fastest epoch of
/// each is reported, since a shared machine adds noise in one direction only. Then resident memory after each
/// epoch of a longer run, to show it stays flat.
/// </summary>
internal static class DistillationBenchmark
{
    public sealed record Report(int Images, int Teachers, int BatchSize, int Rounds, double MtkdSeconds, double MtkdImagesPerSecond, double BareSeconds,
        double BareImagesPerSecond, double Ratio, double MedianRoundRatio, IReadOnlyList<double> ResidentMegabytesPerEpoch, string TeacherSource,
        OnlineCost Online)
    {
        /// <summary>The same kinds of epoch against the PyTorch twin; null with --no-pytorch.</summary>
        public PyTorchComparison.Report? PyTorch { get; init; }
    }

    /// <summary>
    /// The price of online (consistent) teaching: a distillation epoch whose K teachers score every augmented, mixed
    /// batch, against the same K teachers' forward passes over the same batches alone. The ratio is what the student's
    /// own step adds on top of the teachers' inference (goal ≤ 1.2×).
    /// </summary>
    public sealed record OnlineCost(string Teachers, string Student, double DistillSeconds, double TeacherForwardSeconds, double Ratio,
        double InTurnSeconds, double InTurnRatio, int Threads)
    {
        /// <summary>
        /// PROJECTED, not measured: the epoch with the two halves on cores of their own, each as fast as it runs alone
        /// here: the longer of the teachers' passes and the rest of the in-turn epoch, over the teachers' passes.
        /// </summary>
        public double ProjectedRatioWithCoresForBothHalves => Math.Max(TeacherForwardSeconds, InTurnSeconds - TeacherForwardSeconds) / TeacherForwardSeconds;
    }

    public static Report Run(int images, int memoryEpochs, int rounds = 3)
    {
        TorchRuntime.EnsureLoaded();
        var data = FashionMnist.Load(DataSplit.Train).Take(images);
        const int teachers = 3, batchSize = 128;
        var logits = SyntheticLogits(data, teachers);
        var distillation = new DistillationOptions();

        using var bare = new BareLoop(data, logits, teachers, batchSize, distillation);
        var bareSeconds = new List<double>();
        var stored = data.WithColumn(TeacherColumns.Logits, logits, teachers * data.ClassCount);
        using var run = new DistillationJob
        {
            Data = stored, Trainer = new TrainerOptions { Epochs = 1 + rounds, BatchSize = batchSize, Seed = 1 }, Distillation = distillation,
            Progress = Epochs(() => bareSeconds.Add(bare.RunEpoch())),
        }.Run();
        var history = run.History;
        var mtkdSeconds = history.Select(e => e.Seconds).ToArray();
        double mtkd = mtkdSeconds.Skip(1).Min(), bareBest = bareSeconds.Skip(1).Min();
        var roundRatios = Enumerable.Range(1, rounds).Select(i => bareSeconds[i] / mtkdSeconds[i]).Order().ToArray();

        var resident = new List<double>();
        using var longRun = new DistillationJob
        {
            Data = stored, Trainer = new TrainerOptions { Epochs = memoryEpochs, BatchSize = batchSize, Seed = 2 }, Distillation = distillation,
            Progress = Epochs(() =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                resident.Add(Process.GetCurrentProcess().WorkingSet64 / 1048576.0);
            }),
        }.Run();
        return new Report(data.Count, teachers, batchSize, rounds, mtkd, data.Count / mtkd, bareBest, data.Count / bareBest, bareBest / mtkd,
            roundRatios[roundRatios.Length / 2], resident, "synthetic logits (speed does not depend on them)", MeasureOnline(data, teachers, batchSize, rounds));
    }

    /// <summary>Synthetic soft labels, K teachers' logits per image in [−5, 5): speed does not depend on their values.</summary>
    internal static float[] SyntheticLogits(ImageDataset data, int teachers)
    {
        var random = new Random(1);
        return Enumerable.Range(0, data.Count * teachers * data.ClassCount).Select(_ => (float)(random.NextDouble() * 10 - 5)).ToArray();
    }

    /// <summary>
    /// The online teachers: cnn-small at width 32, 13× the student's multiply-accumulates, untrained (speed does not depend
    /// on weights); the caller disposes them.
    /// </summary>
    internal static SequentialNetwork[] OnlineTeacherNetworks(ImageDataset data, int k) =>
        Enumerable.Range(0, k).Select(i => NetworkTrainer.CreateNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall, 32), data, seed: 10 + i)).ToArray();

    /// <summary>What the online teachers score: every batch shifted, flipped and mixed.</summary>
    internal static AugmentationOptions OnlineAugmentation() => new() { ShiftPixels = 2, HorizontalFlip = true, Mixup = 1 };

    private static OnlineCost MeasureOnline(ImageDataset data, int k, int batchSize, int rounds)
    {
        var networks = OnlineTeacherNetworks(data, k);
        var teacherSpec = networks[0].Spec;
        try
        {
            var teachers = new NetworkTeachers(networks);
            var options = new TrainerOptions { BatchSize = batchSize, Augmentation = OnlineAugmentation() };
            var forwardSeconds = new List<double>();
            using var all = tensor(data.ReadAllPixels(), [data.Count, 1, 28, 28]);
            options.Seed = 3;
            void Forward()
            {
                var clock = Stopwatch.StartNew();
                for (int start = 0; start < data.Count; start += batchSize)
                {
                    using var scope = NewDisposeScope();
                    teachers.Score(all.narrow(0, start, Math.Min(batchSize, data.Count - start)));
                }
                forwardSeconds.Add(clock.Elapsed.TotalSeconds);
            }
            // Rounds alternate a job whose teachers score one batch ahead on a thread of their own and one scoring in turn
            // on the training thread, each a warm-up epoch and a timed one, the teachers' passes alone timed after every epoch.
            options.Epochs = 2;
            var job = new DistillationJob { Data = data, Teachers = teachers, ConsistentTeaching = true, Trainer = options, Progress = Epochs(Forward) };
            var (ahead, inTurn) = (new List<double>(), new List<double>());
            string student = "";
            for (int round = 0; round < rounds; round++)
            {
                using (var run = (job with { ScoreAhead = true }).Run())
                {
                    ahead.Add(run.History[^1].Seconds);
                    student = $"{run.Student.Spec.Name} ({run.Student.Complexity.MultiplyAccumulates:N0} MACs)";
                }
                using (var run = (job with { ScoreAhead = false }).Run())
                    inTurn.Add(run.History[^1].Seconds);
            }
            double distill = ahead.Min(), sequential = inTurn.Min(), forward = forwardSeconds.Min();
            return new OnlineCost($"{k} × {teacherSpec.Name} w32 ({networks[0].Complexity.MultiplyAccumulates:N0} MACs each)",
                student, distill, forward, distill / forward, sequential, sequential / forward, get_num_threads());
        }
        finally
        {
            foreach (var n in networks) n.Dispose();
        }
    }

    /// <summary>The reference: the same network, loss and optimizer over batches cut before timing starts.</summary>
    private sealed class BareLoop : IDisposable
    {
        private readonly SequentialNetwork network;
        private readonly TorchSharp.Modules.Adam optimizer;
        private readonly List<(Tensor Images, Tensor Teachers, Tensor Labels)> batches = [];
        private readonly DistillationOptions distillation;

        public BareLoop(ImageDataset data, float[] logits, int teachers, int batchSize, DistillationOptions distillation)
        {
            this.distillation = distillation;
            random.manual_seed(1);
            network = new SequentialNetwork(NetworkPresets.Get(NetworkPresets.CnnSmall), 1, 28, 28, 10);
            optimizer = optim.Adam(network.parameters(), 2e-3);
            var order = Enumerable.Range(0, data.Count).ToArray();
            new Random(1).Shuffle(order);
            for (int start = 0; start < data.Count; start += batchSize)
            {
                var rows = order.Skip(start).Take(batchSize).ToArray();
                batches.Add((
                    tensor(rows.SelectMany(r => data.ReadImage(r)).ToArray(), [rows.Length, 1, 28, 28]),
                    tensor(rows.SelectMany(r => logits.AsSpan(r * teachers * 10, teachers * 10).ToArray()).ToArray(), [rows.Length, teachers, 10]),
                    tensor(rows.Select(r => (long)data.Labels[r]).ToArray(), [rows.Length])));
            }
        }

        public double RunEpoch()
        {
            network.train();
            var clock = Stopwatch.StartNew();
            foreach (var (images, teacherLogits, labels) in batches)
            {
                using var scope = NewDisposeScope();
                optimizer.zero_grad();
                var output = network.forward(images);
                using var targets = LabelTargets.From(labels, (int)teacherLogits.shape[2]);
                var loss = Mtkd.Training.Distillation.Methods.OutputAverage.Compute(output, teacherLogits, targets, distillation.Temperature, distillation.Alpha);
                loss.backward();
                optimizer.step();
                _ = loss.item<float>(); // the training loop reads the loss each step too
            }
            return clock.Elapsed.TotalSeconds;
        }

        public void Dispose()
        {
            foreach (var (a, b, c) in batches) { a.Dispose(); b.Dispose(); c.Dispose(); }
            optimizer.Dispose();
            network.Dispose();
        }
    }

    public static void Print(Report r)
    {
        var table = new Table().Title($"One distillation epoch (fastest of {r.Rounds} alternating rounds): output_avg, cnn-small, batch {r.BatchSize}, " +
            $"{r.Images:N0} Fashion-MNIST images, {r.Teachers} teachers")
            .AddColumn("Loop").AddColumn(new TableColumn("Seconds").RightAligned()).AddColumn(new TableColumn("Images/s").RightAligned());
        table.AddRow("NetworkTrainer.Distill", $"{r.MtkdSeconds:0.00}", $"{r.MtkdImagesPerSecond:N0}");
        table.AddRow("bare TorchSharp loop, pre-made batches", $"{r.BareSeconds:0.00}", $"{r.BareImagesPerSecond:N0}");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Distill vs bare loop: [bold]{r.Ratio:0.00}×[/] fastest vs fastest, {r.MedianRoundRatio:0.00}× median of the rounds " +
            $"(target ≥ 0.95×). Soft labels: {Markup.Escape(r.TeacherSource)}.");
        AnsiConsole.MarkupLine(Markup.Escape($"Resident memory after each of {r.ResidentMegabytesPerEpoch.Count} epochs (MiB): " +
            string.Join(", ", r.ResidentMegabytesPerEpoch.Select(m => m.ToString("0", CultureInfo.InvariantCulture))) +
            $"; growth from epoch 2 to the last: {r.ResidentMegabytesPerEpoch[^1] - r.ResidentMegabytesPerEpoch[Math.Min(1, r.ResidentMegabytesPerEpoch.Count - 1)]:+0;-0} MiB."));
        var o = r.Online;
        AnsiConsole.MarkupLine(Markup.Escape($"Online teaching ({o.Teachers} scoring every shifted, flipped, mixed batch; student {o.Student}): one epoch {o.DistillSeconds:0.00} s " +
            $"against {o.TeacherForwardSeconds:0.00} s for the teachers' forward passes alone: {o.Ratio:0.00}× with the teachers scoring one batch ahead " +
            $"(goal ≤ 1.1×); {o.InTurnSeconds:0.00} s, {o.InTurnRatio:0.00}×, scoring in turn; {o.Threads} intra-op threads. PROJECTED with cores for both " +
            $"halves ({2 * o.Threads} threads, each half as fast as alone here): {o.ProjectedRatioWithCoresForBothHalves:0.00}×."));
    }

    // Runs the action once per finished epoch, on the training thread.
    private static SynchronousProgress<TrainingProgress> Epochs(Action atEpochEnd) => new(p => { if (p.Completed is not null) atEpochEnd(); });
}
