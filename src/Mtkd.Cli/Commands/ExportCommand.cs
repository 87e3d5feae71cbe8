using Mtkd.Shared;
using System.CommandLine;
using Mtkd.Training.Onnx;
using Mtkd.Training.Engine;
using Spectre.Console;

namespace Mtkd.Cli.Commands;

/// <summary><c>mtkd export</c>: writes the student of a training checkpoint (finished or not) as ONNX, and with --int8 its int8 model.</summary>
internal static class ExportCommand
{
    /// <summary>Where the int8 model of <paramref name="path"/> goes: student.onnx → student.int8.onnx.</summary>
    public static string Int8Path(string path) => Path.ChangeExtension(path, null) + ".int8.onnx";

    public static Command Create()
    {
        var checkpoint = new Argument<string>("CHECKPOINT") { Description = "A checkpoint folder, or a mtkd distill output folder holding checkpoints/." };
        var output = new Option<string>("--out") { Description = "The ONNX file to write.", Required = true };
        var fold = new Option<bool>("--fold-batchnorm") { Description = "Fold each batch norm into the convolution before it." };
        var opset = new Option<int>("--opset") { Description = $"ONNX operator set, 9 to {OnnxExportOptions.NewestOpset}.", DefaultValueFactory = _ => 13 };
        var int8 = new Option<bool>("--int8") { Description = "Also write the student quantized to int8 (QDQ: per-channel int8 weights, uint8 activations " +
            "calibrated on training images of --data) beside --out, as NAME.int8.onnx." };
        var calibrationImages = new Option<int>("--calibration-images") { Description = "With --int8: training images the activation ranges are read from, " +
            "spread evenly over the training split.", DefaultValueFactory = _ => new QuantizationOptions().CalibrationImages };
        var calibration = new Option<string>("--calibration") { Description = "With --int8: minmax (nothing clips on the calibration images) or percentile " +
            "(99.99th at each end).", DefaultValueFactory = _ => "minmax" };
        OutputChecks.OneOf(calibration, "minmax", "percentile");
        var data = new DataFlags();
        var command = new Command("export", "Export the student of a training checkpoint to ONNX, and with --int8 its int8 model too.")
        {
            checkpoint, output, fold, opset, int8, calibrationImages, calibration,
        };
        data.AddTo(command);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            string path = parse.GetValue(output)!;
            OutputChecks.File(path, "--out");
            bool quantize = parse.GetValue(int8);
            foreach (var flag in new Option[] { calibrationImages, calibration })
                if (!quantize && parse.GetResult(flag) is { Implicit: false })
                    throw new ArgumentException($"{flag.Name} is for --int8; add --int8 or drop {flag.Name}.");
            int calibrationCount = parse.GetValue(calibrationImages);
            if (quantize && calibrationCount < 1)
                throw new ArgumentException($"--calibration-images {calibrationCount}: expected a positive number of training images (a few hundred).");
            string int8Path = Int8Path(path);
            if (quantize) OutputChecks.File(int8Path, "--out (its int8 model)");
            var (network, model) = StudentCheckpoint.Load(parse.GetValue(checkpoint)!);
            using (network)
            {
                var exported = OnnxExporter.Export(network, new OnnxExportOptions
                {
                    ClassNames = model.ClassNames, FoldBatchNorm = parse.GetValue(fold), Opset = parse.GetValue(opset), BinaryLogit = BinaryModels.OneLogit(model.ClassNames),
                });
                Mtkd.Training.AtomicFile.WriteAllBytes(path, exported);
                var complexity = network.Complexity;
                AnsiConsole.MarkupLine(Markup.Escape($"Wrote {path}: {model.Spec.Name}, {complexity.Parameters:N0} parameters, " +
                    $"{complexity.MultiplyAccumulates:N0} MACs per image, {exported.Length:N0} bytes."));
                if (quantize)
                {
                    // Calibrated on the training split, read as the model reads its input (the same data flags as training).
                    var images = data.Request(parse, [path]).Load("train");
                    var quantization = new QuantizationOptions
                    {
                        CalibrationImages = calibrationCount,
                        Method = parse.GetValue(calibration) == "percentile" ? CalibrationMethod.Percentile : CalibrationMethod.MinMax,
                    };
                    var bytes = OnnxQuantizer.Quantize(exported, images, quantization, path);
                    Mtkd.Training.AtomicFile.WriteAllBytes(int8Path, bytes);
                    AnsiConsole.MarkupLine(Markup.Escape($"Wrote {int8Path}: int8, calibrated on {Math.Min(calibrationCount, images.Count):N0} training images " +
                        $"({parse.GetValue(calibration)}), {bytes.Length:N0} bytes ({(double)bytes.Length / exported.Length:0.00}× the float model). " +
                        $"Compare them: mtkd evaluate {path} {int8Path}"));
                }
                // Mutual learning's peers and online ensemble compression's branches train beside this network; say which one this is.
                if (StudentCheckpoint.HasCompanions(parse.GetValue(checkpoint)!))
                    AnsiConsole.MarkupLine(Markup.Escape($"This checkpoint holds several students trained together; {path} is the first ({model.Spec.Name}: " +
                        "peer 0, or the widest branch). A finished mtkd distill run writes every one as student-<k>.onnx, the run's student as student.onnx, " +
                        "and all of them as ensemble.onnx."));
            }
            return 0;
        }));
        return command;
    }
}
