using System.Text.Json;
using Google.Protobuf;
using Mtkd.Training.Distillation;
using Mtkd.Training.Networks;
using Mtkd.Training.Onnx.Proto;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Mtkd.Training.Onnx;

/// <summary>
/// Writes a <see cref="SequentialNetwork"/> as an ONNX model in inference form: batch norm with its running
/// statistics, dropout removed, a dynamic batch dimension. TorchSharp has no exporter of its own.
/// </summary>
public static class OnnxExporter
{
    private const string Producer = "Mtkd";

    /// <summary>The model's bytes, checked by <see cref="OnnxModelValidator"/> before they are returned; a network with non-finite weights is refused.</summary>
    public static byte[] Export(SequentialNetwork network, OnnxExportOptions? options = null)
    {
        if (Engine.TrainingLoop.FirstNonFiniteParameter(network) is { } bad)
            throw new InvalidDataException($"{network.Spec.Name}: '{bad}' holds non-finite values (NaN or ±∞), so the model would predict nothing; not " +
                $"exported. Retrain from the last good checkpoint with a lower learning rate.");
        var bytes = BuildModel(network, options ?? new OnnxExportOptions()).ToByteArray();
        OnnxModelValidator.Validate(bytes, $"The export of {network.Spec.Name}");
        return bytes;
    }

    /// <summary>Exports to a file (written to a temporary file first, then renamed).</summary>
    public static void Export(SequentialNetwork network, string path, OnnxExportOptions? options = null) =>
        AtomicFile.WriteAllBytes(path, Export(network, options));

    /// <summary>
    /// The supernet aggregator as a model of its own: input "teacher_outputs" [batch, D] (the teachers' logits or
    /// features, concatenated teacher by teacher), output "logits" [batch, C]: Sub, Div, Gemm.
    /// </summary>
    internal static byte[] ExportAggregator(SupernetAggregator.Model aggregator, int opset = 13)
    {
        var graph = new GraphProto { Name = "supernet-aggregator" };
        graph.Input.Add(TensorValue("teacher_outputs", "batch", aggregator.InputWidth));
        var builder = new OnnxGraphBuilder(graph);
        builder.Initializer("mean", aggregator.Mean, 1, aggregator.InputWidth);
        builder.Initializer("std", aggregator.Std, 1, aggregator.InputWidth);
        builder.Initializer("weight", aggregator.Weight, aggregator.ClassCount, aggregator.InputWidth);
        builder.Initializer("bias", aggregator.Bias, aggregator.ClassCount);
        builder.AddNode("Sub", "center", ["teacher_outputs", "mean"], "centered");
        builder.AddNode("Div", "scale", ["centered", "std"], "standardized");
        builder.AddNode("Gemm", "linear", ["standardized", "weight", "bias"], "logits", OnnxGraphBuilder.Int("transB", 1));
        graph.Output.Add(TensorValue("logits", "batch", aggregator.ClassCount));
        var model = new ModelProto
        {
            IrVersion = 7, ProducerName = Producer, Graph = graph, DocString = "The frozen aggregator of a supernet distillation, exported by Mtkd.",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        var bytes = model.ToByteArray();
        OnnxModelValidator.Validate(bytes, "The supernet aggregator export");
        return bytes;
    }

    private static ModelProto BuildModel(SequentialNetwork network, OnnxExportOptions options)
    {
        if (options.Opset is < 9 or > OnnxExportOptions.NewestOpset)
            throw new ArgumentOutOfRangeException(nameof(options), options.Opset, $"Opsets 9 to {OnnxExportOptions.NewestOpset} are supported (tested with ONNX Runtime).");
        var graph = new GraphProto { Name = network.Spec.Name };
        var input = network.InputShape;
        // A network of feature vectors (F×1×1 "images" flattened first, such as an MLP) takes [batch, F], as tabular models do.
        bool vectors = input.Height == 1 && input.Width == 1 && network.Spec.Layers[0] is Networks.FlattenLayer;
        graph.Input.Add(vectors ? TensorValue(options.InputName, "batch", input.Channels) : TensorValue(options.InputName, "batch", input.Channels, input.Height, input.Width));

        // Each layer writes its own nodes ("layers.{i}", after its module); the exporter only threads the values through.
        var builder = new OnnxGraphBuilder(graph);
        string current = options.InputName;
        var spec = network.Spec;
        int bodyLayers = network.HeadCount > 1 ? spec.Layers.Count - 1 : spec.Layers.Count;
        if (options.BinaryLogit && network.ClassCount != 2)
            throw new ArgumentException($"{spec.Name} has {network.ClassCount} classes; BinaryLogit exports a two-class network as one logit.", nameof(options));
        // A binary export computes the class logits under an inner name, then their difference as the output.
        string classLogits = options.BinaryLogit ? "class_logits" : options.LogitsName;
        string OutputOf(int i) => i == spec.Layers.Count - 1 ? classLogits : $"layers.{i}.output";
        for (int i = 0; i < bodyLayers;)
        {
            bool last = i == spec.Layers.Count - 1;
            if (last && options.FeaturesName is { } featuresName)
                AddFeatures(builder, network, current, featuresName);
            bool hasNext = i + 1 < bodyLayers;
            var step = new OnnxLayerStep($"layers.{i}", current, OutputOf(i), network.LayerModules[i], options.FoldBatchNorm, last,
                hasNext ? spec.Layers[i + 1] : null, hasNext ? network.LayerModules[i + 1] : null, hasNext ? $"layers.{i + 1}" : null, hasNext ? OutputOf(i + 1) : null);
            var (covered, output) = spec.Layers[i].Export(builder, step);
            current = output;
            i += covered;
        }
        if (network.HeadCount > 1)
        {
            if (options.FeaturesName is { } featuresName)
                AddFeatures(builder, network, current, featuresName);
            AddMeanOfHeads(builder, network, current, classLogits);
        }
        int outputs = options.BinaryLogit ? 1 : network.ClassCount;
        if (options.BinaryLogit)
        {
            // z = logit₁ − logit₀ as one MatMul with [[−1], [1]]: softmax([l₀, l₁])₁ = σ(z).
            builder.Initializer("binary.difference", [-1f, 1f], 2, 1);
            builder.AddNode("MatMul", "binary", [classLogits, "binary.difference"], options.LogitsName);
        }
        graph.Output.Add(TensorValue(options.LogitsName, "batch", outputs));
        if (options.ProbabilitiesName is { } probabilities)
        {
            if (options.BinaryLogit)
                builder.AddNode("Sigmoid", "sigmoid", [options.LogitsName], probabilities);
            else
                builder.AddNode("Softmax", "softmax", [options.LogitsName], probabilities, OnnxGraphBuilder.Int("axis", 1));
            graph.Output.Add(TensorValue(probabilities, "batch", outputs));
        }

        var model = new ModelProto
        {
            IrVersion = 7, // the IR version that opset 13 shipped with; every runtime that reads opset 13 reads it
            ProducerName = Producer,
            ProducerVersion = typeof(OnnxExporter).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
            Graph = graph,
            DocString = $"{spec.Name}, {network.ParameterCount} parameters, exported by Mtkd.",
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        AddMetadata(model, "network", JsonSerializer.Serialize(spec));
        AddMetadata(model, "input_layout", "NCHW");
        AddMetadata(model, "normalization", options.Normalization);
        if (options.Resize is { } resize)
            AddMetadata(model, "resize", resize.ToString().ToLowerInvariant());
        if (options.ClassNames is { } names)
            AddMetadata(model, "class_names", JsonSerializer.Serialize(names));
        if (options.TrainingRows is { } rows)
            AddMetadata(model, SoftLabels.TrainingRowSet.MetadataKey, rows.Encode());
        if (options.Specialist is { } specialist)
        {
            if (specialist.OutputCount != network.ClassCount)
                throw new ArgumentException($"A specialist of classes {specialist} has {specialist.OutputCount} outputs (its classes and \"other\"); the network gives {network.ClassCount}.", nameof(options));
            AddMetadata(model, Teachers.SpecialistClasses.MetadataKey, specialist.Encode());
        }
        return model;
    }

    private static void AddMetadata(ModelProto model, string key, string value) =>
        model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });

    private static void AddFeatures(OnnxGraphBuilder graph, SequentialNetwork network, string value, string name)
    {
        if (network.Spec.Layers[^1] is not LinearLayer)
            throw new NotSupportedException($"{network.Spec.Name}: a features output needs the last layer to be Linear.");
        graph.AddNode("Identity", "features", [value], name);
        graph.Graph.Output.Add(TensorValue(name, "batch", network.Shapes[^2].Size));
    }

    // mimic_all students: logits = log(mean over heads of softmax(head)), so softmax(logits) is the heads' mean probability.
    private static void AddMeanOfHeads(OnnxGraphBuilder graph, SequentialNetwork network, string features, string logitsName)
    {
        var probabilities = new List<string>();
        for (int k = 0; k < network.HeadCount; k++)
        {
            string head = $"heads.{k}";
            graph.AddLinear(head, features, $"{head}.logits", (Linear)network.HeadModules[k]);
            graph.AddNode("Softmax", $"{head}.softmax", [$"{head}.logits"], $"{head}.probabilities", OnnxGraphBuilder.Int("axis", 1));
            probabilities.Add($"{head}.probabilities");
        }
        graph.AddNode("Sum", "heads.sum", probabilities.ToArray(), "heads.sum.output");
        graph.AddNode("Mul", "heads.mean", ["heads.sum.output", graph.Scalar("heads.count_inverse", 1f / network.HeadCount)], "heads.mean_probabilities");
        graph.AddNode("Log", "heads.log", ["heads.mean_probabilities"], logitsName);
    }

    internal static ValueInfoProto TensorValue(string name, string batchDimension, params int[] dimensions)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = batchDimension });
        foreach (var d in dimensions)
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
