using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Trainers;

namespace Mtkd.MLNet.Internal;

/// <summary>
/// The few ML.NET internals Mtkd reaches by reflection, kept in one place. Why: a third-party transformer cannot
/// write its own state into a model zip, so the student is saved as stock ML.NET transformers; the only stock
/// transformer that turns scores into a scalar key <c>PredictedLabel</c> carrying the training label's key values is
/// <see cref="MulticlassPredictionTransformer{TModel}"/>, whose constructors are internal. An identity linear model
/// (weights I, bias 0) in it gives Score = softmax(logits) exactly as ONNX would. A binary student's head is likewise
/// ML.NET's <see cref="BinaryPredictionTransformer{TModel}"/> over a unit linear model and a Platt calibrator (internal
/// constructors too), which gives the binary trainers' Score, Probability and Boolean PredictedLabel. Tests pin this
/// to the referenced ML.NET version; a failure here names the member that changed.
/// </summary>
internal static class MlNetInternals
{
    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    /// <summary>The environment behind an ML.NET catalog (what ML.NET's own extensions get from CatalogUtils).</summary>
    public static IHostEnvironment GetEnvironment(object catalog)
    {
        var property = catalog.GetType().GetInterfaces()
            .FirstOrDefault(i => i.FullName == "Microsoft.ML.Data.IInternalCatalog")
            ?.GetProperty("Environment");
        return property?.GetValue(catalog) as IHostEnvironment
            ?? throw Changed($"{catalog.GetType().FullName} no longer exposes IInternalCatalog.Environment");
    }

    private static readonly Lazy<(ConstructorInfo Model, ConstructorInfo Head)> HeadConstructors = new(() =>
    (
        typeof(MaximumEntropyModelParameters).GetConstructor(Instance, null,
            [typeof(IHostEnvironment), typeof(VBuffer<float>[]), typeof(float[]), typeof(int), typeof(int), typeof(string[]), typeof(ModelStatisticsBase)], null)
            ?? throw Changed("MaximumEntropyModelParameters(env, weights[], bias, classes, features, labelNames, stats) is gone"),
        typeof(MulticlassPredictionTransformer<MaximumEntropyModelParameters>).GetConstructor(Instance, null,
            [typeof(IHostEnvironment), typeof(MaximumEntropyModelParameters), typeof(DataViewSchema), typeof(string), typeof(string), typeof(string), typeof(string)], null)
            ?? throw Changed("MulticlassPredictionTransformer(env, model, schema, feature, label, score, predictedLabel) is gone")
    ));

    // The binary head: a linear model (the logit) calibrated by Platt's sigmoid, in ML.NET's binary prediction transformer,
    // as LbfgsLogisticRegression returns it: BinaryPredictionTransformer<CalibratedModelParametersBase<LinearBinaryModelParameters, PlattCalibrator>>.
    private static readonly Lazy<(ConstructorInfo Linear, ConstructorInfo Platt, ConstructorInfo Calibrated, ConstructorInfo Head)> BinaryHeadConstructors = new(() =>
    {
        var mixing = typeof(CalibratedModelParametersBase).Assembly.GetType("Microsoft.ML.Calibrators.ParameterMixingCalibratedModelParameters`2")
            ?? throw Changed("ParameterMixingCalibratedModelParameters<TSubModel, TCalibrator> is gone");
        var calibrated = mixing.MakeGenericType(typeof(LinearBinaryModelParameters), typeof(PlattCalibrator));
        return (
            typeof(LinearBinaryModelParameters).GetConstructor(Instance, null,
                [typeof(IHostEnvironment), typeof(VBuffer<float>).MakeByRefType(), typeof(float), typeof(ModelStatisticsBase)], null)
                ?? throw Changed("LinearBinaryModelParameters(env, in weights, bias, stats) is gone"),
            typeof(PlattCalibrator).GetConstructor(Instance, null, [typeof(IHostEnvironment), typeof(double), typeof(double)], null)
                ?? throw Changed("PlattCalibrator(env, slope, offset) is gone"),
            calibrated.GetConstructor(Instance, null, [typeof(IHostEnvironment), typeof(LinearBinaryModelParameters), typeof(PlattCalibrator)], null)
                ?? throw Changed("ParameterMixingCalibratedModelParameters(env, predictor, calibrator) is gone"),
            typeof(BinaryPredictionTransformer<CalibratedModelParametersBase<LinearBinaryModelParameters, PlattCalibrator>>).GetConstructor(Instance, null,
                [typeof(IHostEnvironment), typeof(CalibratedModelParametersBase<LinearBinaryModelParameters, PlattCalibrator>), typeof(DataViewSchema), typeof(string),
                    typeof(float), typeof(string)], null)
                ?? throw Changed("BinaryPredictionTransformer(env, model, schema, feature, threshold, thresholdColumn) is gone"));
    });

    private static readonly Lazy<PropertyInfo> IsCanceledProperty = new(() =>
        typeof(IHostEnvironment).Assembly.GetType("Microsoft.ML.Runtime.ICancelable")?.GetProperty("IsCanceled")
        ?? throw Changed("ICancelable.IsCanceled (what MLContext.CancelExecution sets) is gone"));

    private static readonly Lazy<(Type Interface, PropertyInfo GpuDeviceId, PropertyInfo FallbackToCpu)> GpuProperties = new(() =>
    {
        var type = typeof(IHostEnvironment).Assembly.GetType("Microsoft.ML.Runtime.IHostEnvironmentInternal")
            ?? throw Changed("IHostEnvironmentInternal (where MLContext keeps GpuDeviceId) is gone");
        return (type, type.GetProperty("GpuDeviceId") ?? throw Changed("IHostEnvironmentInternal.GpuDeviceId is gone"),
            type.GetProperty("FallbackToCpu") ?? throw Changed("IHostEnvironmentInternal.FallbackToCpu is gone"));
    });

    private static readonly Lazy<MethodInfo> CancelExecutionMethod = new(() =>
        typeof(MLContext).GetMethod("CancelExecution", Instance, Type.EmptyTypes)
        ?? throw Changed("MLContext.CancelExecution() is gone"));

    /// <summary>
    /// Resolves every internal member Mtkd uses, so a changed ML.NET fails when a catalog method is called, not after
    /// an hour of training.
    /// </summary>
    public static void ResolveAll()
    {
        _ = HeadConstructors.Value;
        _ = BinaryHeadConstructors.Value;
        _ = IsCanceledProperty.Value;
        _ = GpuProperties.Value;
        _ = CancelExecutionMethod.Value;
        _ = SchemaShapes.Of(new DataViewSchema.Builder().ToSchema());
    }

    /// <summary>ML.NET's own MLContext.CancelExecution (internal in Microsoft.ML; public only in Microsoft.ML.Experimental).</summary>
    public static void CancelExecution(MLContext mlContext) => CancelExecutionMethod.Value.Invoke(mlContext, null);

    /// <summary>Whether <c>mlContext.CancelExecution()</c> was called; always false for an environment that cannot be cancelled.</summary>
    public static Func<bool> CancellationCheck(IHostEnvironment env)
    {
        var property = IsCanceledProperty.Value;
        return property.DeclaringType!.IsInstanceOfType(env) ? () => (bool)property.GetValue(env)! : () => false;
    }

    /// <summary><c>MLContext.GpuDeviceId</c> and <c>MLContext.FallbackToCpu</c> of the environment (null and true when it keeps none).</summary>
    public static (int? GpuDeviceId, bool FallbackToCpu) GpuSettings(IHostEnvironment env)
    {
        var (type, gpu, fallback) = GpuProperties.Value;
        return type.IsInstanceOfType(env) ? ((int?)gpu.GetValue(env), (bool)fallback.GetValue(env)!) : (null, true);
    }

    /// <summary>
    /// A stock transformer mapping a logits column to <c>Score</c> = softmax(logits) and a scalar key
    /// <c>PredictedLabel</c> typed like <paramref name="labelColumn"/> in <paramref name="trainSchema"/>.
    /// </summary>
    public static ITransformer CreateSoftmaxPredictionHead(
        IHostEnvironment env, int classCount, DataViewSchema trainSchema, string logitsColumn, string labelColumn,
        string scoreColumn = "Score", string predictedLabelColumn = "PredictedLabel")
    {
        var weights = new VBuffer<float>[classCount];
        for (int c = 0; c < classCount; c++)
        {
            var row = new float[classCount];
            row[c] = 1f;
            weights[c] = new VBuffer<float>(classCount, row);
        }
        var bias = new float[classCount];
        var (modelCtor, headCtor) = HeadConstructors.Value;
        var model = modelCtor.Invoke([env, weights, bias, classCount, classCount, null, null]);
        return (ITransformer)headCtor.Invoke([env, model, trainSchema, logitsColumn, labelColumn, scoreColumn, predictedLabelColumn]);
    }

    /// <summary>
    /// A stock binary prediction head, as ML.NET's logistic regression gives it: <c>Score</c> = w·logits (the logit),
    /// <c>Probability</c> = σ(Score) (Platt's calibrator with slope −1, offset 0) and a Boolean <c>PredictedLabel</c>,
    /// true where <paramref name="thresholdColumn"/> (Score or Probability) is at least <paramref name="threshold"/>.
    /// </summary>
    public static ITransformer CreateBinaryPredictionHead(IHostEnvironment env, DataViewSchema trainSchema, string logitsColumn, float[] weights,
        float threshold = 0f, string thresholdColumn = "Score")
    {
        var (linearCtor, plattCtor, calibratedCtor, headCtor) = BinaryHeadConstructors.Value;
        var linear = linearCtor.Invoke([env, new VBuffer<float>(weights.Length, weights), 0f, null]);
        var platt = plattCtor.Invoke([env, -1d, 0d]);
        var model = calibratedCtor.Invoke([env, linear, platt]);
        return (ITransformer)headCtor.Invoke([env, model, trainSchema, logitsColumn, threshold, thresholdColumn]);
    }

    private static InvalidOperationException Changed(string what) =>
        new($"Mtkd was built against ML.NET {typeof(MLContext).Assembly.GetName().Version}; in the loaded version {what}. Use the ML.NET version Mtkd references.");
}
