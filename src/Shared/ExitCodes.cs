namespace Mtkd.Shared;

/// <summary>
/// The exit codes of mtkd and of the programs built on Mtkd here (the study, the samples, the benchmarks), decided in
/// this one place: 2 for a command line that cannot work (a bad or conflicting setting: <see cref="ArgumentException"/>),
/// 1 for data and files (missing, damaged, unfit, unwritable), 130 for a stop by Ctrl+C or SIGTERM, 70 (EX_SOFTWARE)
/// for anything else, a bug. The engine raises data faults as <see cref="InvalidDataException"/>, settings as
/// <see cref="ArgumentException"/>, so the code says which the user has to fix. A source file compiled into mtkd and
/// each program (the predictor references no Mtkd assembly), so the map is written once.
/// </summary>
internal static class ExitCodes
{
    public const int DataError = 1, UsageError = 2, Bug = 70, Interrupted = 130;

    /// <summary>The exit code for a run that ended with <paramref name="error"/>.</summary>
    public static int For(Exception error) => error switch
    {
        OperationCanceledException => Interrupted,
        ArgumentException => UsageError,
        IOException or InvalidDataException or InvalidOperationException or NotSupportedException or UnauthorizedAccessException => DataError,
        _ => Bug,
    };

    /// <summary>
    /// The message to show a user: an argument error without .NET's " (Parameter 'x')" and "Actual value was" lines,
    /// the setting and its value said plainly instead.
    /// </summary>
    public static string Message(Exception error)
    {
        if (error is not ArgumentException { ParamName: { } name } argument)
            return error.Message;
        var message = argument.Message;
        int cut = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        if (cut >= 0) message = message[..cut];
        return argument is ArgumentOutOfRangeException { ActualValue: { } value }
            ? $"{message.TrimEnd('.')} ({name}: {Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)})."
            : message;
    }
}
