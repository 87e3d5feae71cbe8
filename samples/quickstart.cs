#:project ../src/Mtkd.MLNet/Mtkd.MLNet.csproj
// ML.NET and Mtkd use reflection: a file-based app is native-AOT by default, which turns it off.
#:property PublishAot=false
// Mtkd in one script: teachers → ScoreTeachers → distillation → evaluation against the ensemble and the same
// network trained on labels → a saved ML.NET model. Run: dotnet run samples/quickstart.cs [-- --quick]
// Data: Fashion-MNIST (apt-get install dataset-fashion-mnist). Your own teachers: put their .onnx paths in `teachers`.
using Microsoft.ML;
using Mtkd.MLNet;
using Mtkd.MLNet.Data;
using Mtkd.Training.Data;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx;
using Mtkd.Training.Engine;

bool quick = args.Contains("--quick");
string output = Directory.CreateDirectory(args.SkipWhile(a => a != "--out").Skip(1).FirstOrDefault() ?? "quickstart-out").FullName;
var ml = new MLContext(seed: 1);
var train = FashionMnist.Load(DataSplit.Train).Take(quick ? 2_000 : 20_000);
var test = FashionMnist.Load(DataSplit.Test).Take(quick ? 1_000 : 10_000);
var (trainView, testView) = (train.ToDataView(ml), test.ToDataView(ml));

// 1. Teachers: three CNNs, each trained on its own 70 % of the images, exported to ONNX.
var teachers = TeacherGeneration.Bagging(train, NetworkPresets.Get(NetworkPresets.TeacherCnn), count: 3, fraction: 0.7,
        new TrainerOptions { Epochs = quick ? 1 : 5, Seed = 1 })
    .Select(t =>
    {
        string path = Path.Combine(output, $"teacher-{t.Index}.onnx");
        using (t.Network) OnnxExporter.Export(t.Network, path, new OnnxExportOptions { ClassNames = train.ClassNames });
        return path;
    }).ToArray();

// 2. The ensemble as an ML.NET model: the teachers scored in batches, their probabilities averaged.
var ensemble = ml.Transforms.ScoreTeachers(teachers).Append(ml.Transforms.FuseTeachers()).Fit(trainView);

// 3. A small student distilled from the teachers, and the same student trained on the labels alone (α = 1).
var trainer = new TrainerOptions { Epochs = quick ? 1 : 10, Seed = 1, Augmentation = { ShiftPixels = 2, HorizontalFlip = true } };
var student = ml.Transforms.ScoreTeachers(teachers)
    .Append(ml.MulticlassClassification.Trainers.MultiTeacherDistillation(new() { Trainer = trainer }))
    .Fit(trainView);
var baseline = ml.MulticlassClassification.Trainers.MultiTeacherDistillation(new() { Trainer = trainer, Distillation = { Alpha = 1 } })
    .Fit(trainView);

// 4. Accuracy on the test images, and the cost of each.
double Accuracy(ITransformer model) => ml.MulticlassClassification.Evaluate(model.Transform(testView)).MicroAccuracy;
long teacherMacs = teachers.Sum(t => OnnxModelInfo.Read(t).Cost.MultiplyAccumulates);
Console.WriteLine($"ensemble of 3 teachers: {Accuracy(ensemble):P2}  ({teacherMacs:N0} MACs per image)");
Console.WriteLine($"distilled student:      {Accuracy(student):P2}  ({OnnxModelInfo.Read(student.LastTransformer.OnnxModel, "student").Cost.MultiplyAccumulates:N0} MACs per image)");
Console.WriteLine($"label-trained student:  {Accuracy(baseline):P2}");

// 5. The student is an ordinary ML.NET model: save it, load it anywhere with Microsoft.ML and ONNX Runtime.
string zip = Path.Combine(output, "student.zip");
ml.Model.Save(student.LastTransformer, trainView.Schema, zip); // the student alone: teacher scoring is not part of it
Console.WriteLine($"saved {zip}");
