using System.CommandLine;
using Mtkd.Samples.Shared;
using Mtkd.Samples.Tabular;

// ML.NET trainers teach a small network on a table: scikit-learn's handwritten digits (64 pixel features), a few of
// them labelled and the rest not. LightGbm, FastTree and SDCA are trained on the labelled rows, converted to ONNX
// teachers (TeacherModel.FromMlNet) and distilled into an MLP that also learns from the unlabelled rows; the same MLP
// trained on the labels alone is the baseline. Writes metrics.json, accuracy.png, model.zip and student.onnx.
var output = new Option<string>("--out") { Description = "Output folder.", DefaultValueFactory = _ => Path.Combine("out", "tabular") };
var data = new Option<string>("--data") { Description = "scikit-learn's digits.csv.gz (Debian's python3-sklearn).", DefaultValueFactory = _ => TabularSettings.DigitsPath };
var labels = new Option<int>("--labels") { Description = "Labelled training rows (the rest of the training rows are unlabelled).", DefaultValueFactory = _ => 50 };
var seeds = new Option<string?>("--seeds") { Description = "Seeds, comma-separated: each draws its own labelled rows and initialises its own networks (default 1,2,3,4,5; quick: 1)." };
var epochs = new Option<int?>("--epochs") { Description = "Epochs of the MLPs (default 100; quick: 15)." };
var quick = new Option<bool>("--quick") { Description = "A smoke run: one seed, few epochs (the tests run it)." };
var root = new RootCommand("ML.NET trainers as teachers of an MLP on a table (scikit-learn's digits), against the MLP trained on the labels.")
{
    output, data, labels, seeds, epochs, quick,
};
root.SetAction(parse =>
{
    bool isQuick = parse.GetValue(quick);
    var settings = new TabularSettings(
        parse.GetValue(output)!, parse.GetValue(data)!, CommandLineRun.Positive(parse.GetValue(labels), "--labels"),
        parse.GetValue(seeds) is { } s ? CommandLineRun.PositiveInts(s, "--seeds") : isQuick ? [1] : [1, 2, 3, 4, 5],
        CommandLineRun.Positive(parse.GetValue(epochs) ?? (isQuick ? 15 : 100), "--epochs"), isQuick);
    TabularRun.Run(settings);
    return 0;
});
return CommandLineRun.Invoke(root, args);
