using Microsoft.ML;
using Mtkd.MLNet.Internal;

namespace Mtkd.MLNet;

/// <summary>Calls on the MLContext that ML.NET keeps internal and Mtkd's long-running work answers to.</summary>
public static class MLContextExtensions
{
    /// <summary>
    /// Stops what runs on this context: a MultiTeacherDistillation Fit stops before its next training step (after the
    /// checkpoint of the last whole epoch, when there is one) and teacher scoring before its next batch, each with an
    /// <see cref="OperationCanceledException"/>. As in ML.NET, a cancelled context stays cancelled: resume with a new
    /// one. The same call as Microsoft.ML.Experimental's <c>CancelExecution</c>, for apps that do not reference it.
    /// </summary>
    public static void CancelExecution(this MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        MlNetInternals.CancelExecution(mlContext);
    }
}
