using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using Mtkd.Samples.Images;
using Mtkd.Samples.Shared;

// Classifies a folder of images with a model zip saved by the Corrosion or Smoke sample, using ML.NET alone:
// the zip holds the image loading, resizing and pixel extraction as well as the student network.
//
//   image-predictor MODEL.zip FOLDER [--out predictions.csv] [--threshold T] [--positive CLASS]
//
// The decision threshold and the class names come from metrics.json beside the zip when it is there (the
// sample chose the threshold on validation images and saved it in the zip too); --threshold and --positive override
// them. The samples' binary models decide at the zip's threshold without either; a multiclass model gives each image
// its most probable class. Files that do not decode completely, or whose size or aspect ratio
// is far from the model's (resizing would distort them), are named and left out, as the samples do.
var model = new Argument<string>("MODEL") { Description = "A model zip saved by the Corrosion or Smoke sample." };
var folder = new Argument<string>("FOLDER") { Description = "The folder of images to classify (.jpg, .jpeg, .png)." };
var output = new Option<string?>("--out") { Description = "The CSV to write (default: FOLDER/predictions.csv)." };
var threshold = new Option<double?>("--threshold") { Description = "Probability of the positive class from which an image is positive (default: metrics.json's)." };
var positive = new Option<string?>("--positive") { Description = "The positive class (default: metrics.json's)." };
var root = new RootCommand("Classifies a folder of images with a sample's model zip, using ML.NET alone.") { model, folder, output, threshold, positive };
root.SetAction(parse =>
{
    var settings = PredictorSettings.Resolve(parse.GetValue(model)!, parse.GetValue(folder)!, parse.GetValue(output), parse.GetValue(threshold), parse.GetValue(positive));
    var (written, skipped) = FolderClassifier.Run(settings);
    Console.WriteLine($"classified {written} image(s) into {settings.Output}{(skipped > 0 ? $"; {skipped} unreadable file(s) left out (named above)" : "")}");
    return 0;
});
return CommandLineRun.Invoke(root, args);

internal sealed record PredictorSettings(string Model, string Folder, string Output, double? Threshold, string? Positive, string? Negative = null)
{
    public static PredictorSettings Resolve(string model, string folder, string? output, double? threshold, string? positive)
    {
        if (threshold is { } t && !(t is >= 0 and <= 1)) // NaN fails too
            throw new ArgumentException($"--threshold expects a probability in [0, 1], got '{t.ToString(CultureInfo.InvariantCulture)}'.");
        output ??= Path.Combine(folder, "predictions.csv");
        if (!File.Exists(model)) throw new FileNotFoundException($"Model '{model}' does not exist.", model);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Image folder '{folder}' does not exist.");
        // The sample writes its chosen threshold and positive class into metrics.json beside the model.
        var metrics = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(model))!, "metrics.json");
        string? negative = null;
        if (File.Exists(metrics))
        {
            try
            {
                using var json = JsonDocument.Parse(File.ReadAllText(metrics));
                if (threshold is null && json.RootElement.TryGetProperty("threshold", out var value)) threshold = value.GetDouble();
                if (positive is null && json.RootElement.TryGetProperty("positive_class", out var p)) positive = p.GetString();
                // A binary model's labels are true and false: the sample's class names say what they stand for.
                if (json.RootElement.TryGetProperty("classes", out var classes) && classes.ValueKind == JsonValueKind.Array)
                    negative = classes.EnumerateArray().Select(c => c.GetString()).FirstOrDefault(c => c != positive);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{metrics} is not the JSON the sample writes ({e.Message}); give --threshold and --positive, or remove it.", e);
            }
        }
        return new PredictorSettings(model, folder, output, threshold, positive, negative);
    }
}

internal static class FolderClassifier
{
    private static readonly string[] Extensions = [".jpg", ".jpeg", ".png"];

    public static (int Written, int Skipped) Run(PredictorSettings settings)
    {
        var ml = new MLContext();
        var model = ml.Model.Load(settings.Model, out var inputSchema);
        if (inputSchema.GetColumnOrNull("ImagePath") is null)
            throw new InvalidDataException($"'{settings.Model}' does not start from an ImagePath column; it is not a model saved by the image samples.");

        // ML.NET stops the whole run at the first image it cannot decode, and stretches any image to the model's
        // shape, so each file is decoded once beforehand and held to the same rules as the sample's own images.
        var (height, width) = InputSize(model, inputSchema)
            ?? throw new InvalidDataException($"'{settings.Model}' has no ResizeImages step; it is not a model saved by the image samples.");
        var check = new ImageCheck(height, width);
        var files = new List<ImageFile>();
        int skipped = 0;
        foreach (var file in Directory.EnumerateFiles(settings.Folder, "*", SearchOption.AllDirectories)
                     .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal))
        {
            if (check.Problem(file) is { } problem)
            {
                Console.Error.WriteLine($"  skipped {file}: {problem}");
                skipped++;
            }
            else
            {
                files.Add(new ImageFile { ImagePath = Path.GetFullPath(file) });
            }
        }
        if (files.Count == 0)
            throw new InvalidDataException($"'{settings.Folder}' has no readable .jpg, .jpeg or .png image.");

        var scored = model.Transform(ml.Data.LoadFromEnumerable(files));
        if (scored.Schema["PredictedLabel"].Type is BooleanDataViewType)
            return (WriteBinary(ml, scored, files, settings), skipped);
        VBuffer<ReadOnlyMemory<char>> keyValues = default;
        scored.Schema["PredictedLabel"].GetKeyValues(ref keyValues);
        var classes = keyValues.DenseValues().Select(v => v.ToString()).ToArray();
        int positive = settings.Positive is null ? -1 : Array.IndexOf(classes, settings.Positive);
        if (settings.Positive is not null && positive < 0)
            throw new ArgumentException($"Positive class '{settings.Positive}' is not one of the model's classes ({string.Join(", ", classes)}).");
        bool thresholded = settings.Threshold is not null && positive >= 0 && classes.Length == 2;

        var lines = new List<string> { "file,probability,label" };
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        for (int i = 0; i < files.Count; i++)
        {
            var score = scores[i];
            string line;
            if (thresholded)
            {
                float p = score[positive];
                line = string.Create(CultureInfo.InvariantCulture, $"{Csv(files[i].ImagePath)},{p:R},{(p >= settings.Threshold ? classes[positive] : classes[1 - positive])}");
            }
            else
            {
                int best = Array.IndexOf(score, score.Max());
                line = string.Create(CultureInfo.InvariantCulture, $"{Csv(files[i].ImagePath)},{score[best]:R},{classes[best]}");
            }
            lines.Add(line);
        }
        WriteAtomically(settings.Output, lines);
        return (files.Count, skipped);
    }

    // A binary model (the samples' student): the probability of the positive class, and the model's own decision (the
    // threshold saved in the zip) unless --threshold or metrics.json gives one.
    private static int WriteBinary(MLContext ml, IDataView scored, IReadOnlyList<ImageFile> files, PredictorSettings settings)
    {
        // One pass over the files: each image is decoded and scored once.
        var predictions = ml.Data.CreateEnumerable<BinaryPrediction>(scored, reuseRowObject: false).ToArray();
        var lines = new List<string> { "file,probability,label" };
        for (int i = 0; i < files.Count; i++)
        {
            var p = predictions[i];
            bool positive = settings.Threshold is { } t ? p.Probability >= t : p.PredictedLabel;
            string label = positive ? settings.Positive ?? "True" : settings.Negative ?? "False";
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{Csv(files[i].ImagePath)},{p.Probability:R},{label}"));
        }
        WriteAtomically(settings.Output, lines);
        return files.Count;
    }

    // Written beside the target and renamed, so a failed run never leaves a half-written file in place of a good one.
    private static void WriteAtomically(string path, IEnumerable<string> lines)
    {
        var temporary = path + ".tmp";
        File.WriteAllLines(temporary, lines);
        File.Move(temporary, path, overwrite: true);
    }

    // The size the model's ResizeImages step stretches every image to: its column is the one image column of known size.
    private static (int Height, int Width)? InputSize(ITransformer model, DataViewSchema inputSchema) =>
        model.GetOutputSchema(inputSchema).Select(c => c.Type).OfType<ImageDataViewType>()
            .Where(t => t.Height > 0 && t.Width > 0).Select(t => ((int Height, int Width)?)(t.Height, t.Width)).FirstOrDefault();

    private static string Csv(string value) => value.IndexOfAny([',', '"', '\n']) >= 0 ? $"\"{value.Replace("\"", "\"\"")}\"" : value;
}

internal sealed class ImageFile
{
    public string ImagePath { get; set; } = "";
}
