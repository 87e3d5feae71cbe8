using Mtkd.Training.Data;
using Mtkd.Training.Distillation;
using Mtkd.Training.Engine;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Teachers;
using static TorchSharp.torch;

namespace Mtkd.Training.Tests.Engine;

/// <summary>
/// Specialized teachers (Zaras, Passalis and Tefas 2021): the unified rule worked by hand, the default groups, the
/// groups as text, the relabelled data, specialists read back from ONNX as one teacher, and a student taught by them alone.
/// </summary>
public sealed class SpecialistTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("mtkd-specialists-").FullName;

    public SpecialistTests() => TorchRuntime.EnsureLoaded();

    public void Dispose() => Directory.Delete(directory, recursive: true);

    // Four classes; A knows {0, 1}, B {1, 2}, C {2, 3, 0}: class 3 is covered once, the others twice. Their logits are
    // the logarithms of the probabilities below, so the softmax of each is those probabilities exactly.
    //   row 0: A (0.5, 0.3 | other 0.2), B (0.6, 0.1 | 0.3), C (0.2, 0.1, 0.4 | 0.3)
    //     class 0: (0.5 + 0.4) / 2 = 0.45; class 1: (0.3 + 0.6) / 2 = 0.45; class 2: (0.1 + 0.2) / 2 = 0.15; class 3: 0.1
    //     unified distribution: each over their sum 1.15 = 0.3913043, 0.3913043, 0.1304348, 0.0869565
    //   row 1: A (0.1, 0.1 | 0.8), B (0.2, 0.7 | 0.1), C (0.5, 0.2, 0.1 | 0.2)
    //     class 0: (0.1 + 0.1) / 2 = 0.1; class 1: (0.1 + 0.2) / 2 = 0.15; class 2: (0.7 + 0.5) / 2 = 0.6; class 3: 0.2
    //     over 1.05: 0.0952381, 0.1428571, 0.5714286, 0.1904762
    [Fact]
    public void The_unified_distribution_worked_by_hand()
    {
        SpecialistClasses[] groups = [new([0, 1], 4), new([1, 2], 4), new([2, 3, 0], 4)];
        float[][] logits =
        [
            Ln(0.5, 0.3, 0.2, 0.1, 0.1, 0.8),
            Ln(0.6, 0.1, 0.3, 0.2, 0.7, 0.1),
            Ln(0.2, 0.1, 0.4, 0.3, 0.5, 0.2, 0.1, 0.2),
        ];
        // Two rows written with a stride of 6 at offset 2 (as the second teacher's slot would be), the rest untouched.
        var destination = Enumerable.Repeat(-7f, 12).ToArray();
        SpecialistEnsemble.Unify(groups, logits, 2, destination, offset: 2, stride: 6);
        Assert.Equal([-7f, -7f], destination[..2]);
        Assert.Equal([-7f, -7f], destination[6..8]);
        double[][] expected = [[0.45, 0.45, 0.15, 0.1], [0.1, 0.15, 0.6, 0.2]];
        double[][] distribution = [[0.3913043, 0.3913043, 0.1304348, 0.0869565], [0.0952381, 0.1428571, 0.5714286, 0.1904762]];
        for (int row = 0; row < 2; row++)
        {
            var unified = destination.AsSpan(2 + row * 6, 4).ToArray();
            for (int c = 0; c < 4; c++) Assert.Equal(Math.Log(expected[row][c]), unified[c], 5);
            double sum = unified.Sum(v => Math.Exp(v));
            for (int c = 0; c < 4; c++) Assert.Equal(distribution[row][c], Math.Exp(unified[c]) / sum, 5);
        }
    }

    private static float[] Ln(params double[] p) => p.Select(v => (float)Math.Log(v)).ToArray();

    [Fact]
    public void The_default_groups_cover_every_class_at_least_twice()
    {
        Assert.Equal(["0-3", "2-5", "4-7", "6-9", "8,9,0,1"], SpecialistClasses.DefaultGroups(10, 5).Select(g => g.ToString()));
        for (int classes = 3; classes <= 20; classes++)
            for (int count = (int)Math.Ceiling(2.0 * classes / (classes - 1)); count <= classes + 2; count++)
            {
                var groups = SpecialistClasses.DefaultGroups(classes, count);
                Assert.Equal(count, groups.Count);
                Assert.All(groups, g => Assert.True(g.Classes.Count < classes));
                for (int c = 0; c < classes; c++)
                    Assert.True(groups.Count(g => g.Classes.Contains(c)) >= 2, $"{count} specialists of {classes} classes: class {c} covered fewer than twice");
            }
        var tooFew = Assert.Throws<ArgumentException>(() => SpecialistClasses.DefaultGroups(10, 2));
        Assert.Contains("would each know all of them", tooFew.Message);
        Assert.Contains("give 3 or more", tooFew.Message);
    }

    [Fact]
    public void Groups_are_read_from_indices_ranges_and_class_names()
    {
        string[] names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
        var groups = SpecialistClasses.Parse("0-3; 1-4;4-7;6-9;5,8,9,0", names);
        Assert.Equal(["0-3", "1-4", "4-7", "6-9", "5,8,9,0"], groups.Select(g => g.ToString()));
        Assert.Equal([0, 6, 2], SpecialistClasses.Parse("t-shirt/top,Shirt,Pullover", names)[0].Classes);
        Assert.Contains("class 12 is not one of the data's classes 0 to 9", Assert.Throws<ArgumentException>(() => SpecialistClasses.Parse("0-3;12", names)).Message);
        Assert.Contains("runs backwards", Assert.Throws<ArgumentException>(() => SpecialistClasses.Parse("3-1", names)).Message);
        Assert.Contains("'Hat' is neither a class index nor a class name", Assert.Throws<ArgumentException>(() => SpecialistClasses.Parse("0,Hat", names)).Message);
        Assert.Contains("distinct", Assert.Throws<ArgumentException>(() => SpecialistClasses.Parse("0,1,1", names)).Message);
        Assert.Contains("fewer than all 10", Assert.Throws<ArgumentException>(() => SpecialistClasses.Parse("0-9", names)).Message);
    }

    [Fact]
    public void A_specialist_learns_its_classes_and_other()
    {
        var data = new ImageDataset(new float[5], [0, 3, 2, ImageDataset.Unlabeled, 1], 1, 1, 1, ["a", "b", "c", "d"]);
        var relabelled = new SpecialistClasses([2, 0], 4).Relabel(data);
        Assert.Equal([1, 2, 0, ImageDataset.Unlabeled, 2], relabelled.Labels);
        Assert.Equal(["c", "a", "other"], relabelled.ClassNames);
    }

    [Fact]
    public void Specialists_read_back_from_ONNX_are_one_unified_teacher()
    {
        var data = TrainingFixtures.Train.Take(100);
        var groups = SpecialistClasses.DefaultGroups(10, 5);
        var spec = NetworkPresets.Get(NetworkPresets.CnnSmall);
        var specialists = TeacherGeneration.Specialists(data, spec, groups, new TrainerOptions { Epochs = 1, BatchSize = 50, Seed = 3 }).ToArray();
        using var generalist = NetworkTrainer.CreateNetwork(spec, data, seed: 4);
        try
        {
            Assert.Equal(groups, specialists.Select(s => s.Specialist));
            Assert.All(specialists, s => Assert.Equal(5, s.Network.ClassCount)); // four classes and "other"
            var paths = specialists.Select(s => Export(s.Network, $"specialist-{s.Index}.onnx", s.Specialist)).ToArray();
            var generalistPath = Export(generalist, "generalist.onnx", null);

            var images = TrainingFixtures.Validation.Take(8);
            using var pixels = tensor(images.ReadAllPixels(), [8, 1, 28, 28]);
            using (var teachers = OnnxTeachers.Load([generalistPath, .. paths]))
            {
                Assert.Equal(2, teachers.TeacherCount);
                Assert.Equal(10, teachers.ClassCount);
                Assert.Equal(6, teachers.Descriptions.Count);
                Assert.Equal(groups.Select(g => g.ToString()), teachers.Descriptions.Skip(1).Select(d => d.Specialist!.ToString()));
                Assert.StartsWith("specialists (", teachers.TeacherNames[1]);
                using var scores = teachers.Score(pixels);
                Assert.Equal([8L, 2, 10], scores.shape);
                var actual = scores.data<float>().ToArray();
                // Expected from the networks themselves, independently of the engine's rule: softmax, mean over the covering ones.
                var expectedGeneralist = Forward(generalist, pixels);
                var perSpecialist = specialists.Select(s => Softmax(Forward(s.Network, pixels), 5)).ToArray();
                for (int i = 0; i < 8; i++)
                {
                    for (int c = 0; c < 10; c++)
                        Assert.Equal(expectedGeneralist[i * 10 + c], actual[i * 20 + c], 3);
                    for (int c = 0; c < 10; c++)
                    {
                        var covering = Enumerable.Range(0, 5).Where(s => groups[s].Classes.Contains(c)).ToArray();
                        double mean = covering.Average(s => perSpecialist[s][i * 5 + groups[s].Classes.ToList().IndexOf(c)]);
                        Assert.Equal(Math.Log(mean), actual[i * 20 + 10 + c], 4);
                    }
                }
            }

            // Specialists alone fit data of their classes (they have no teacher of all the classes to compare with).
            using (var only = OnnxTeachers.Load(paths))
                only.CheckFits(TrainingFixtures.Validation);

            // Without the specialist of 8, 9, 0, 1 and the one of 6-9, classes 8 and 9 are known by none.
            var uncovered = Assert.Throws<InvalidDataException>(() => OnnxTeachers.Load(paths.Take(3).ToArray()));
            Assert.Contains("No specialist covers classes 8, 9 of 10", uncovered.Message);
            Assert.Contains("specialist-2.onnx': 4-7", uncovered.Message);
            // The exporter refuses classes that do not match the network's outputs.
            Assert.Contains("has 3 outputs", Assert.Throws<ArgumentException>(() => Export(specialists[0].Network, "wrong.onnx", new SpecialistClasses([0, 1], 10))).Message);
        }
        finally
        {
            foreach (var s in specialists) s.Network.Dispose();
        }
    }

    [Fact]
    public void A_student_learns_from_the_unified_specialists_alone()
    {
        var data = TrainingFixtures.Train;
        var specialists = TeacherGeneration.Specialists(data, NetworkPresets.Get(NetworkPresets.CnnSmall), SpecialistClasses.DefaultGroups(10, 5),
            new TrainerOptions { Epochs = 4, BatchSize = 40, Seed = 3 }).ToArray();
        TeacherModel[] paths;
        try
        {
            paths = specialists.Select(s => Export(s.Network, $"s{s.Index}.onnx", s.Specialist)).ToArray();
        }
        finally
        {
            foreach (var s in specialists) s.Network.Dispose();
        }
        using var teachers = OnnxTeachers.Load(paths.ToArray());
        double ensemble = Mtkd.Training.Fusion.SoftLabelAccuracy.MeanProbability(teachers.Logits(TrainingFixtures.Validation), TrainingFixtures.Validation.Labels, 1, 10);
        // α 0: no label reaches the student; everything it learns comes from the unified distribution.
        using var result = new DistillationJob
        {
            Data = data, Teachers = teachers, Trainer = new TrainerOptions { Epochs = 4, BatchSize = 40, Seed = 5 },
            Distillation = new DistillationOptions { Alpha = 0, Temperature = 1 },
        }.Run();
        Assert.Equal(1, result.TeacherCount);
        double accuracy = NetworkTrainer.Evaluate(result.Student, TrainingFixtures.Validation).Accuracy;
        Assert.True(accuracy > 0.5 && ensemble > 0.5, $"student {accuracy:P1} from unified specialists at {ensemble:P1} (chance 10 %)");
    }

    private TeacherModel Export(SequentialNetwork network, string name, SpecialistClasses? specialist)
    {
        var path = Path.Combine(directory, name);
        OnnxExporter.Export(network, path, new OnnxExportOptions { Specialist = specialist, ProbabilitiesName = null });
        return TeacherModel.FromFile(path);
    }

    private static float[] Forward(SequentialNetwork network, Tensor images)
    {
        network.eval();
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        return network.forward(images).data<float>().ToArray();
    }

    private static double[] Softmax(float[] logits, int width)
    {
        var result = new double[logits.Length];
        for (int i = 0; i < logits.Length; i += width)
        {
            double max = logits.AsSpan(i, width).ToArray().Max(), sum = 0;
            for (int j = 0; j < width; j++) sum += result[i + j] = Math.Exp(logits[i + j] - max);
            for (int j = 0; j < width; j++) result[i + j] /= sum;
        }
        return result;
    }
}
