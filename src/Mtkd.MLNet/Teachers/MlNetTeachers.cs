using Microsoft.ML;
using Microsoft.ML.Data;
using Mtkd.MLNet.Internal;
using Mtkd.Training.Onnx;
using Mtkd.Training.Teachers;

namespace Mtkd.MLNet.Teachers;

/// <summary>Fitted ML.NET models as teachers: <c>TeacherModel.FromMlNet(mlContext, model, inputSchema)</c>.</summary>
public static class MlNetTeachers
{
    extension(TeacherModel)
    {
        /// <summary>
        /// A fitted ML.NET classifier (a trainer's transformer, or a pipeline ending in one) as a teacher: converted to
        /// ONNX by ML.NET's own converter (Microsoft.ML.OnnxConverter), cut down to what its scores need (so it is fed
        /// the feature column alone), and scored like any ONNX teacher. A multiclass model teaches with its
        /// <c>Score</c> (class probabilities); a binary one with its <c>Probability</c> when it is calibrated, else its
        /// <c>Score</c> (the logit). <paramref name="inputSchema"/> is the schema the model was fitted on (its input
        /// data's); its feature column must be the one the distillation reads, a known-size vector of Single. A model
        /// that ML.NET cannot convert is refused naming its transformers.
        /// </summary>
        public static TeacherModel FromMlNet(MLContext mlContext, ITransformer model, DataViewSchema inputSchema, string? name = null)
        {
            ArgumentNullException.ThrowIfNull(mlContext);
            ArgumentNullException.ThrowIfNull(model);
            ArgumentNullException.ThrowIfNull(inputSchema);
            name ??= $"ML.NET model ({Describe(model)})";
            byte[] converted;
            // The converter does not fail on a part it cannot convert: it logs a warning and leaves that part (and all
            // before it) out, which would make a teacher that is not the model. Its warnings are refusals here.
            var leftOut = new List<string>();
            void OnLog(object? sender, LoggingEventArgs e)
            {
                if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning && e.RawMessage.Contains("ONNX", StringComparison.Ordinal))
                    leftOut.Add(e.RawMessage.TrimEnd('.'));
            }
            mlContext.Log += OnLog;
            try
            {
                using var stream = new MemoryStream();
                mlContext.Model.ConvertToOnnx(model, new EmptyDataView(inputSchema), stream);
                converted = stream.ToArray();
            }
            catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException or NullReferenceException)
            {
                throw CannotConvert(name, e.Message, e);
            }
            finally
            {
                mlContext.Log -= OnLog;
            }
            if (leftOut.Count > 0)
                throw CannotConvert(name, string.Join("; ", leftOut));
            var outputs = model.GetOutputSchema(inputSchema);
            bool binary = outputs.GetColumnOrNull("PredictedLabel")?.Type is BooleanDataViewType;
            var (output, kind) = binary
                ? outputs.GetColumnOrNull("Probability") is not null ? ("Probability", TeacherOutputKind.Probabilities) : ("Score", TeacherOutputKind.Logits)
                : outputs.GetColumnOrNull("Score")?.Type is VectorDataViewType ? ("Score", TeacherOutputKind.Probabilities)
                : throw new ArgumentException($"{name} gives no Score vector (class probabilities) nor a binary Score; a teacher must be a classifier. Its outputs: " +
                    string.Join(", ", outputs.Select(c => $"'{c.Name}' ({c.Type})")) + ".", nameof(model));
            // ML.NET's converter names each column's final value "<column>.output".
            var teacher = OnnxSubgraph.Extract(converted, output + ".output", name);
            return TeacherModel.FromBytes(teacher, name) with { OutputKind = kind };
        }
    }

    private static NotSupportedException CannotConvert(string name, string why, Exception? inner = null) =>
        new($"{name} cannot be a teacher: ML.NET's ONNX converter (Microsoft.ML.OnnxConverter) cannot convert all of it ({why.TrimEnd('.')}). Use " +
            "transforms and a trainer that convert (LightGbm, FastTree, SDCA, L-BFGS, ...), or bring the teacher as an ONNX file.", inner);

    // The transformers' type names, as a message names the model (for example "ColumnConcatenatingTransformer, MulticlassPredictionTransformer<...>").
    private static string Describe(ITransformer model) => model is IEnumerable<ITransformer> chain
        ? string.Join(", ", chain.Select(Describe))
        : model.GetType().IsGenericType
            ? $"{model.GetType().Name[..model.GetType().Name.IndexOf('`')]}<{string.Join(", ", model.GetType().GetGenericArguments().Select(a => a.Name))}>"
            : model.GetType().Name;
}
