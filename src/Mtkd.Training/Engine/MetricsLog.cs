using System.Globalization;
using System.Text;

namespace Mtkd.Training.Engine;

/// <summary>The per-epoch metrics CSV: epoch, losses, accuracies, learning rate, seconds; rewritten whole after every epoch.</summary>
internal static class MetricsLog
{
    public const string Header = "epoch,train_loss,train_accuracy,validation_loss,validation_accuracy,learning_rate,seconds";

    public static void Write(string path, IEnumerable<EpochSummary> history)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (var e in history)
            text.Append(string.Join(',',
                e.Epoch.ToString(CultureInfo.InvariantCulture), F(e.MeanLoss), F(e.TrainAccuracy), F(e.ValidationLoss), F(e.ValidationAccuracy),
                F(e.LearningRate), F(e.Seconds))).Append('\n');
        AtomicFile.WriteAllText(path, text.ToString());
    }

    private static string F(double? value) => value?.ToString("G9", CultureInfo.InvariantCulture) ?? "";
}
