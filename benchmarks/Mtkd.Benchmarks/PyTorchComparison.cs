using System.Diagnostics;
using System.Globalization;
using Mtkd.Training;
using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Distillation.Methods;
using Mtkd.Training.Engine;
using Mtkd.Training.Networks;
using Spectre.Console;
using static TorchSharp.torch;

namespace Mtkd.Benchmarks;

/// <summary>
/// Mtkd's training loop against its PyTorch twin (<c>benchmarks/pytorch/distillation_twin.py</c>, Debian's python3-torch
/// in a process of its own, on as many threads as TorchSharp uses): the same network, batch, optimizer, loss and
/// augmentation on the same images, for (a) a label-trained epoch, (b) an output_avg epoch from stored soft labels and
/// (c) an online-teaching epoch with 3 teachers scoring every shifted, flipped, mixed batch. Each Mtkd epoch is followed
/// by a PyTorch epoch of the same loop, so both see the same machine; after a warm-up round the fastest epoch of each is
/// compared, as in the rest of this benchmark.
/// </summary>
internal static class PyTorchComparison
{
    public const string Script = "distillation_twin.py";

    public sealed record Loop(string Name, double MtkdSeconds, double PyTorchSeconds, double MtkdImagesPerSecond, double PyTorchImagesPerSecond, double Ratio);

    public sealed record Report(int Images, int Threads, int Rounds, string TorchSharp, string PyTorch, IReadOnlyList<Loop> Loops);

    public static Report Run(ImageDataset data, int rounds, Action<string> log)
    {
        TorchRuntime.EnsureLoaded();
        int threads = get_num_threads();
        using var twin = TwinProcess.Start(data.Count, threads, seed: 1);
        log($"PyTorch twin: {twin.Banner}");
        const int teachers = 3;
        var stored = data.WithColumn(TeacherColumns.Logits, DistillationBenchmark.SyntheticLogits(data, teachers), teachers * data.ClassCount);
        var loops = new List<Loop>
        {
            Measure("(a) label-trained epoch", "labels", twin, data, rounds, log, options => new DistillationJob
            {
                Data = data, Trainer = options, Distillation = { Method = new LabelsOnly() },
            }),
            Measure("(b) output_avg from stored soft labels", "stored", twin, data, rounds, log, options => new DistillationJob
            {
                Data = stored, Trainer = options,
            }),
        };
        // (c) The distillation benchmark's online teachers and augmentation.
        var networks = DistillationBenchmark.OnlineTeacherNetworks(data, teachers);
        try
        {
            loops.Add(Measure("(c) online teaching, 3 teachers, shifts, flips, mixup", "online", twin, data, rounds, log, options =>
            {
                options.Augmentation = DistillationBenchmark.OnlineAugmentation();
                return new DistillationJob { Data = data, Teachers = new NetworkTeachers(networks), ConsistentTeaching = true, Trainer = options };
            }));
        }
        finally
        {
            foreach (var n in networks) n.Dispose();
        }
        return new Report(data.Count, threads, rounds, $"TorchSharp {typeof(Tensor).Assembly.GetName().Version?.ToString(3)} (libtorch 2.10)", twin.Banner, loops);
    }

    private static Loop Measure(string name, string mode, TwinProcess twin, ImageDataset data, int rounds, Action<string> log, Func<TrainerOptions, DistillationJob> job)
    {
        var pytorch = new List<double>();
        var options = new TrainerOptions { Epochs = 1 + rounds, BatchSize = 128, Seed = 1 };
        var configured = job(options);
        using var result = (configured with { Progress = new SynchronousProgress<TrainingProgress>(p => { if (p.Completed is not null) pytorch.Add(twin.Epoch(mode)); }) }).Run();
        var mtkd = result.History.Select(e => e.Seconds).ToArray();
        double m = mtkd.Skip(1).Min(), p = pytorch.Skip(1).Min();
        log(string.Create(CultureInfo.InvariantCulture, $"{name}: Mtkd {string.Join(", ", mtkd.Select(s => s.ToString("0.00", CultureInfo.InvariantCulture)))} s, " +
            $"PyTorch {string.Join(", ", pytorch.Select(s => s.ToString("0.00", CultureInfo.InvariantCulture)))} s"));
        return new Loop(name, m, p, data.Count / m, data.Count / p, p / m);
    }

    public static void Print(Report r)
    {
        var table = new Table().Title(Markup.Escape($"Mtkd against its PyTorch twin: {r.Images:N0} Fashion-MNIST images, batch 128, cnn-small, {r.Threads} threads, " +
                $"fastest of {r.Rounds} alternating epochs"))
            .AddColumn("Loop").AddColumn(new TableColumn("Mtkd images/s").RightAligned()).AddColumn(new TableColumn("PyTorch images/s").RightAligned())
            .AddColumn(new TableColumn("Mtkd / PyTorch").RightAligned());
        foreach (var l in r.Loops)
            table.AddRow(Markup.Escape(l.Name), $"{l.MtkdImagesPerSecond:N0}", $"{l.PyTorchImagesPerSecond:N0}", $"{l.Ratio:0.00}×");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(Markup.Escape($"{r.TorchSharp} against {r.PyTorch}. Goal: Mtkd ≥ 1.0× PyTorch on each loop."));
    }

    /// <summary>The twin script in a python3 process of its own, answering one epoch per request.</summary>
    private sealed class TwinProcess : IDisposable
    {
        private readonly Process process;

        private TwinProcess(Process process, string banner) => (this.process, Banner) = (process, banner);

        public string Banner { get; }

        public static TwinProcess Start(int images, int threads, int seed)
        {
            string script = Path.Combine(AppContext.BaseDirectory, "pytorch", Script);
            if (!File.Exists(script)) throw new FileNotFoundException($"The PyTorch twin {script} is missing from the benchmark's build output.", script);
            const string python = "/usr/bin/python3"; // Debian's, where python3-torch installs
            if (!File.Exists(python)) throw new FileNotFoundException($"{python} not found: the PyTorch twin runs on Debian's python3 with python3-torch (apt-get install python3-torch).");
            var start = new ProcessStartInfo(python)
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
                ArgumentList = { script, images.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture), seed.ToString(CultureInfo.InvariantCulture), FashionMnist.DefaultDirectory },
            };
            // PyTorch's OpenMP threads get the same budget as TorchSharp's.
            start.Environment["OMP_NUM_THREADS"] = threads.ToString(CultureInfo.InvariantCulture);
            var process = Process.Start(start)!;
            string? banner = process.StandardOutput.ReadLine();
            if (banner is null || !banner.StartsWith("ready ", StringComparison.Ordinal))
            {
                string errors = process.StandardError.ReadToEnd();
                process.WaitForExit();
                throw new InvalidOperationException(errors.Contains("No module named 'torch'", StringComparison.Ordinal)
                    ? "The PyTorch twin needs Debian's python3-torch: apt-get install python3-torch."
                    : $"The PyTorch twin did not start: {errors.Trim()}");
            }
            return new TwinProcess(process, banner["ready ".Length..]);
        }

        public double Epoch(string mode)
        {
            process.StandardInput.WriteLine($"epoch {mode}");
            process.StandardInput.Flush();
            string? answer = process.StandardOutput.ReadLine();
            if (answer is null || !answer.StartsWith("seconds ", StringComparison.Ordinal))
                throw new InvalidOperationException($"The PyTorch twin failed on a {mode} epoch: {answer ?? process.StandardError.ReadToEnd().Trim()}");
            return double.Parse(answer.Split(' ')[1], CultureInfo.InvariantCulture);
        }

        public void Dispose()
        {
            try
            {
                process.StandardInput.WriteLine("quit");
                process.StandardInput.Flush();
                if (!process.WaitForExit(10_000)) process.Kill();
            }
            catch (IOException) { } // already gone
            process.Dispose();
        }
    }
}
