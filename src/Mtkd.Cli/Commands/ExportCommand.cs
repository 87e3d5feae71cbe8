using Mtkd.Shared;
using System.CommandLine;
using Mtkd.Training.Onnx;
using Mtkd.Training.Engine;
using Spectre.Console;

namespace Mtkd.Cli.Commands;

/// <summary><c>mtkd export</c>: writes the student of a training checkpoint (finished or not) as ONNX.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = new Argument<string>("CHECKPOINT") { Description = "A checkpoint folder, or a mtkd distill output folder holding checkpoints/." };
        var output = new Option<string>("--out") { Description = "The ONNX file to write.", Required = true };
        var fold = new Option<bool>("--fold-batchnorm") { Description = "Fold each batch norm into the convolution before it." };
        var opset = new Option<int>("--opset") { Description = $"ONNX operator set, 9 to {OnnxExportOptions.NewestOpset}.", DefaultValueFactory = _ => 13 };
        var command = new Command("export", "Export the student of a training checkpoint to ONNX.") { checkpoint, output, fold, opset };
        command.SetAction(parse => CliErrors.Run(() =>
        {
            string path = parse.GetValue(output)!;
            OutputChecks.File(path, "--out");
            var (network, model) = StudentCheckpoint.Load(parse.GetValue(checkpoint)!);
            using (network)
            {
                OnnxExporter.Export(network, path, new OnnxExportOptions
                {
                    ClassNames = model.ClassNames, FoldBatchNorm = parse.GetValue(fold), Opset = parse.GetValue(opset), BinaryLogit = BinaryModels.OneLogit(model.ClassNames),
                });
                var complexity = network.Complexity;
                AnsiConsole.MarkupLine(Markup.Escape($"Wrote {path}: {model.Spec.Name}, {complexity.Parameters:N0} parameters, " +
                    $"{complexity.MultiplyAccumulates:N0} MACs per image, {new FileInfo(path).Length:N0} bytes."));
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
