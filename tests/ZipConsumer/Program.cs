using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

// Usage: ZipConsumer MODEL.zip FEATURES.bin IMAGE_SIZE OUTPUT.txt
// FEATURES.bin holds float32 images back to back; OUTPUT.txt gets, per image, the predicted key and the scores
// (a binary model's: the Boolean label, the score and the probability).
var (modelPath, featuresPath, size, outputPath) = (args[0], args[1], int.Parse(args[2], CultureInfo.InvariantCulture), args[3]);
var floats = new float[new FileInfo(featuresPath).Length / 4];
Buffer.BlockCopy(File.ReadAllBytes(featuresPath), 0, floats, 0, floats.Length * 4);

var ml = new MLContext();
var model = ml.Model.Load(modelPath, out _);
var rows = Enumerable.Range(0, floats.Length / size).Select(i => new Row { Features = floats.AsSpan(i * size, size).ToArray() });
var schema = SchemaDefinition.Create(typeof(Row));
schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
var scored = model.Transform(ml.Data.LoadFromEnumerable(rows, schema));

// A binary model (Boolean PredictedLabel) gives per image: the label, Score (the logit) and Probability.
var lines = scored.Schema["PredictedLabel"].Type is BooleanDataViewType
    ? scored.GetColumn<bool>("PredictedLabel").Zip(scored.GetColumn<float>("Score"), scored.GetColumn<float>("Probability")).Select(t =>
        string.Create(CultureInfo.InvariantCulture, $"{t.First} {t.Second:R} {t.Third:R}"))
    : scored.GetColumn<uint>("PredictedLabel").Zip(scored.GetColumn<float[]>("Score"),
        (label, score) => label.ToString(CultureInfo.InvariantCulture) + " " + string.Join(" ", score.Select(s => s.ToString("R", CultureInfo.InvariantCulture))));
var loaded = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name ?? "").Where(n => n.StartsWith("Mtkd", StringComparison.Ordinal));
File.WriteAllLines(outputPath, [$"mtkd-assemblies: {string.Join(",", loaded)}", .. lines]);

internal sealed class Row
{
    public float[] Features { get; set; } = [];
}
