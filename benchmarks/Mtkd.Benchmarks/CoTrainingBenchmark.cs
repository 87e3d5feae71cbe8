using System.Globalization;
using Mtkd.Training;
using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Distillation.Methods;
using Mtkd.Training.Engine;
using Mtkd.Training.Networks;
using Spectre.Console;

namespace Mtkd.Benchmarks;

/// <summary>
/// The price of training students together: an epoch of mutual learning (2 peers) and of online ensemble compression
/// (5 branches sharing a stem) against the sum of their members' label-trained epochs, each member trained alone on
/// the same images, batch, optimizer and augmentation (shifts and flips). Together, the members share one data
/// pipeline and one augmentation pass per batch; alone, each pays its own. Each job runs a warm-up epoch and a timed
/// one; rounds alternate the jobs and the fastest timed epoch of each is compared.
/// </summary>
internal static class CoTrainingBenchmark
{
    public sealed record Member(string Network, long MultiplyAccumulates, double AloneSeconds);

    public sealed record Method(string Name, double TogetherSeconds, IReadOnlyList<Member> Members, double AloneSecondsSum, double Ratio);

    public sealed record Report(int Images, int Rounds, int Threads, IReadOnlyList<Method> Methods);

    public static Report Run(ImageDataset data, int rounds, Action<string> log)
    {
        TorchRuntime.EnsureLoaded();
        var methods = new[]
        {
            Measure("mutual learning, 2 peers", new MutualLearning { Students = 2 }, data, rounds, log),
            Measure("online ensemble compression, 5 branches", new OnlineEnsemble(), data, rounds, log),
        };
        return new Report(data.Count, rounds, TorchSharp.torch.get_num_threads(), methods);
    }

    // Two epochs per job: a warm-up, then the one timed.
    private static TrainerOptions Options(int seed) => new()
    {
        Epochs = 2, BatchSize = 128, Seed = seed, Augmentation = new AugmentationOptions { ShiftPixels = 2, HorizontalFlip = true },
    };

    // Rounds alternate the jobs (together, then each member alone), so a slow spell of this shared machine falls on both sides; fastest of the rounds.
    private static Method Measure(string name, DistillationMethod method, ImageDataset data, int rounds, Action<string> log)
    {
        var together = new List<double>();
        NetworkSpec[] specs = [];
        List<double>[] alone = [];
        for (int round = 0; round < rounds; round++)
        {
            using (var run = new DistillationJob { Data = data, Trainer = Options(5), Distillation = { Method = method } }.Run())
            {
                together.Add(run.History[^1].Seconds);
                specs = run.Students.Select(s => s.Spec).ToArray();
            }
            if (alone.Length == 0) alone = specs.Select(_ => new List<double>()).ToArray();
            for (int i = 0; i < specs.Length; i++)
            {
                using var single = new DistillationJob { Data = data, Student = specs[i], Trainer = Options(5 + i), Distillation = { Method = new LabelsOnly() } }.Run();
                alone[i].Add(single.History[^1].Seconds);
            }
        }
        var members = specs.Select((spec, i) => new Member(spec.Name, NetworkComplexity.Of(spec, data.Channels, data.Height, data.Width, data.ClassCount).MultiplyAccumulates,
            alone[i].Min())).ToArray();
        double sum = members.Sum(m => m.AloneSeconds), fastest = together.Min();
        log(string.Create(CultureInfo.InvariantCulture, $"{name}: together {string.Join(", ", together.Select(t => t.ToString("0.00", CultureInfo.InvariantCulture)))} s per epoch; " +
            $"alone (fastest of {rounds}) {string.Join(" + ", members.Select(m => m.AloneSeconds.ToString("0.00", CultureInfo.InvariantCulture)))} = {sum:0.00} s"));
        return new Method(name, fastest, members, sum, fastest / sum);
    }

    public static void Print(Report r)
    {
        var table = new Table().Title(Markup.Escape($"Students trained together against the sum of each trained alone: {r.Images:N0} Fashion-MNIST images, batch 128, " +
                $"shifts and flips, {r.Threads} threads, fastest of {r.Rounds} epochs"))
            .AddColumn("Method").AddColumn("Members").AddColumn(new TableColumn("Together s").RightAligned())
            .AddColumn(new TableColumn("Alone, summed s").RightAligned()).AddColumn(new TableColumn("Together / alone").RightAligned());
        foreach (var m in r.Methods)
            table.AddRow(Markup.Escape(m.Name), Markup.Escape(string.Join(", ", m.Members.Select(x => x.Network))),
                $"{m.TogetherSeconds:0.00}", $"{m.AloneSecondsSum:0.00}", $"{m.Ratio:0.00}×");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("Goal: together ≤ 1.05× the members' epochs alone, summed.");
    }
}
