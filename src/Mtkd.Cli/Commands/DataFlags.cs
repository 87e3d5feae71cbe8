using System.CommandLine;
using Mtkd.Training.Data;
using Mtkd.Training.Onnx;
using Spectre.Console;

namespace Mtkd.Cli.Commands;

/// <summary>
/// --data and the flags that say how its images become network inputs, shared by every command that reads data:
/// teachers, score, distill and evaluate.
/// </summary>
internal sealed class DataFlags
{
    public const string DataDescription =
        "The images: 'fashion-mnist' (the Debian package), a folder of IDX files, an image folder (ROOT/<class>/*.png|jpg, or ROOT/train|val|test/<class>/…), " +
        "a folder of unlabelled images, or a CSV/TSV manifest of path,label[,split] (paths relative to it; an empty label is unlabelled); " +
        "with --label-column, a CSV/TSV table of numeric feature columns (feature vectors for mlp networks).";

    private readonly Option<string> data = new("--data") { Description = DataDescription, DefaultValueFactory = _ => "fashion-mnist" };
    private readonly Option<string?> imageSize = new("--image-size") { Description = "Image data: the network's input size, HxW (such as 64x64); default: the teachers' input size." };
    private readonly Option<int?> channels = new("--channels") { Description = "Image data: 1 (grey) or 3 (RGB); default: the teachers' input, else 3." };
    private readonly Option<string> resize = new("--resize") { Description = "Image data: how images reach the size: fill (stretch), pad (fit, black " +
        "borders) or crop (cover, centred).", DefaultValueFactory = _ => "fill" };
    private readonly Option<bool> skipBadImages = new("--skip-bad-images") { Description = "Leave out image files that do not decode (named, with a count) instead of refusing the data." };
    private readonly Option<string?> mean = new("--mean") { Description = "Normalize inputs per channel, (pixel/255 − mean) / std: the means, " +
        "comma-separated (ImageNet's: 0.485,0.456,0.406); with --std." };
    private readonly Option<string?> std = new("--std") { Description = "The standard deviations for --mean (ImageNet's: 0.229,0.224,0.225)." };
    private readonly Option<string?> labelColumn = new("--label-column") { Description = "--data is a table (CSV/TSV with a header) of numeric " +
        "feature columns and this label column (an optional 'split' column of train/val/test gives the splits): each row a feature vector, for mlp networks." };
    private readonly Option<string?> cache = new("--cache") { Description = "Folder for the decoded-pixel caches (default $MTKD_CACHE, else ~/.cache/mtkd)." };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { data, labelColumn, imageSize, channels, resize, skipBadImages, mean, std, cache })
            command.Options.Add(option);
    }

    /// <summary>What to read: the source, how to decode it, and where its cache goes.</summary>
    /// <param name="parse">The command line.</param>
    /// <param name="models">ONNX files whose input size is the default (the teachers, or the model evaluated).</param>
    /// <param name="cancellation">The command's Ctrl+C or SIGTERM: stops a cache being built.</param>
    public DataRequest Request(ParseResult parse, IReadOnlyList<string>? models = null, CancellationToken cancellation = default)
    {
        // Resolved once, when a split of image files first needs it: it may read the teachers' input shapes.
        var format = new Lazy<ImageFormat>(() => Format(parse, models ?? []));
        if (parse.GetValue(cache) is { } cacheFolder && File.Exists(cacheFolder))
            throw new ArgumentException($"--cache {cacheFolder} is a file; expected a folder for the decoded-pixel caches.");
        var source = parse.GetValue(labelColumn) is { } label ? TableSource.Open(parse.GetValue(data)!, label) : DatasetSource.Resolve(parse.GetValue(data)!);
        if (source is TableSource table)
        {
            // Feature vectors have no image shape: image decoding flags would be silently meaningless.
            foreach (var (given, flag) in new[] { (parse.GetValue(imageSize) is not null, "--image-size"), (parse.GetValue(channels) is not null, "--channels"),
                (parse.GetResult(resize) is { Implicit: false }, "--resize"), (parse.GetValue(skipBadImages), "--skip-bad-images") })
                if (given)
                    throw new ArgumentException($"{flag} is for images; {table.Location} is a table of {table.FeatureNames.Count} feature columns (--label-column).");
        }
        else if (source.NativeFormat is { } native)
        {
            // Data with a size of its own (IDX files): a decoding flag that asks for another cannot be honoured.
            string Native() => $"{parse.GetValue(data)} images are {native.Channels}x{native.Height}x{native.Width} and are used at that size";
            if (parse.GetValue(channels) is { } c && c != native.Channels)
                throw new ArgumentException($"--channels {c}: {Native()}; drop --channels.");
            if (parse.GetValue(imageSize) is { } size && ImageFormat.ParseSize(size) != (native.Height, native.Width))
                throw new ArgumentException($"--image-size {size}: {Native()}; drop --image-size.");
        }
        return new(source, () => format.Value, parse.GetValue(skipBadImages), parse.GetValue(cache))
        {
            Normalization = Normalization(parse),
            Cancellation = cancellation,
        };
    }

    private (float[] Mean, float[] Std)? Normalization(ParseResult parse)
    {
        string? m = parse.GetValue(mean), s = parse.GetValue(std);
        if (m is null && s is null) return null;
        if (m is null || s is null) throw new ArgumentException("--mean and --std go together: give both, one value per channel.");
        float[] Values(string text, string flag) => text.Split(',').Select(v =>
            float.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var f) && float.IsFinite(f)
            ? f : throw new ArgumentException($"{flag} '{text}': '{v}' is not a finite number; expected comma-separated values, one per channel.")).ToArray();
        var (means, stds) = (Values(m, "--mean"), Values(s, "--std"));
        if (means.Length != stds.Length) throw new ArgumentException($"--mean has {means.Length} values and --std {stds.Length}; give one of each per channel.");
        if (stds.Any(v => v <= 0)) throw new ArgumentException($"--std '{s}': every value must be positive.");
        return (means, stds);
    }

    private ImageFormat Format(ParseResult parse, IReadOnlyList<string> models)
    {
        var mode = parse.GetValue(resize) switch
        {
            "fill" => ResizeMode.Fill, "pad" => ResizeMode.Pad, "crop" => ResizeMode.Crop,
            var other => throw new ArgumentException($"--resize '{other}': expected fill, pad or crop."),
        };
        var (modelChannels, modelHeight, modelWidth) = ModelInput(models);
        int c = parse.GetValue(channels) ?? modelChannels ?? 3;
        if (parse.GetValue(imageSize) is { } size)
        {
            var (h, w) = ImageFormat.ParseSize(size);
            return Checked(new ImageFormat(c, h, w, mode));
        }
        if (modelHeight is { } mh && modelWidth is { } mw)
            return Checked(new ImageFormat(c, mh, mw, mode));
        throw new ArgumentException("Image data needs --image-size HxW (the size the network takes, such as 64x64); with teachers given it defaults to their input size" +
            (models.Count == 0 ? "." : $", and {WhyNoSize(models[0])}."));
    }

    private static ImageFormat Checked(ImageFormat format)
    {
        format.Validate();
        return format;
    }

    // Why a teacher gives no input size to default to, naming it.
    private static string WhyNoSize(string model) =>
        Directory.Exists(model) ? $"teacher '{model}' is a folder, not an ONNX file"
        : !File.Exists(model) ? $"teacher '{model}' does not exist"
        : OnnxModelInfo.Read(model).Inputs.FirstOrDefault()?.Shape is { } shape
            ? $"teacher '{model}' takes [{string.Join(", ", shape.Select(d => d?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"))}], whose image size is not fixed"
            : $"teacher '{model}' declares no input shape";

    // The first model's input [N, C, H, W], when it has that shape with C 1 or 3.
    private static (int? Channels, int? Height, int? Width) ModelInput(IReadOnlyList<string> models)
    {
        foreach (var path in models)
        {
            if (!path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || !File.Exists(path)) continue;
            var shape = OnnxModelInfo.Read(path).Inputs.FirstOrDefault()?.Shape;
            if (shape is { Count: 4 } && shape[1] is 1 or 3 && shape[2] is > 0 && shape[3] is > 0)
                return ((int)shape[1]!, (int)shape[2]!, (int)shape[3]!);
        }
        return (null, null, null);
    }
}

/// <summary>A dataset to read through the cache: its source, its decoding (asked for only when the source is images), the policy for bad files.</summary>
internal sealed record DataRequest(DatasetSource Source, Func<ImageFormat> Format, bool SkipBadImages, string? CacheRoot)
{
    /// <summary>Ctrl+C or SIGTERM: stops building a cache between blocks of images.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>Per-channel (mean, std) applied as images are read; null for pixel/255 as they are.</summary>
    public (float[] Mean, float[] Std)? Normalization { get; init; }

    /// <summary>What the exported models' "normalization" metadata says.</summary>
    public string NormalizationDescription => Normalization is { } n
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"(pixel/255 - [{string.Join(", ", n.Mean)}]) / [{string.Join(", ", n.Std)}]")
        : "pixel/255";

    /// <summary>One split's images, with bad files refused (naming the first) or skipped (counted, the first few named).</summary>
    public ImageDataset Load(string split, IReadOnlyList<string>? classNames = null)
    {
        var format = Source.NativeFormat ?? Format();
        var cached = Source.LoadCached(split, format, CacheRoot, classNames, message => AnsiConsole.MarkupLine(Markup.Escape(message)), Cancellation);
        if (cached.Skipped.Count > 0)
        {
            var first = cached.Skipped[0];
            if (!SkipBadImages)
                throw new InvalidDataException($"{first.Path} {first.Reason}" + (cached.Skipped.Count > 1 ? $" (and {cached.Skipped.Count - 1} more bad images)" : "") +
                    "; remove or fix it, or pass --skip-bad-images to leave such files out.");
            AnsiConsole.MarkupLine(Markup.Escape($"Left out {cached.Skipped.Count} {split} image(s) that do not decode (--skip-bad-images): " +
                string.Join("; ", cached.Skipped.Take(3).Select(s => $"{s.Path} {s.Reason}")) + (cached.Skipped.Count > 3 ? "; …" : "") + "."));
        }
        if (cached.Images.Count == 0)
            throw new InvalidDataException($"{Source.Location}: the {split} split has no usable images.");
        if (Normalization is { } n && n.Mean.Length != cached.Images.Channels)
            throw new ArgumentException($"--mean/--std give {n.Mean.Length} values; the images have {cached.Images.Channels} channel(s).");
        return Normalization is { } norm ? cached.Images.Normalized(norm.Mean, norm.Std) : cached.Images;
    }
}
