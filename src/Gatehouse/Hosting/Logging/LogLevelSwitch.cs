using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting.Logging;

/// <summary>
/// The minimum level, changeable at run time (SIGHUP applies a new <c>log_level</c> without a restart). Every logger
/// reads it on each IsEnabled call, so a change takes effect on the next log line.
/// </summary>
internal sealed class LogLevelSwitch(LogLevel initial = LogLevel.Information)
{
    private volatile int _minimum = (int)initial;

    public LogLevel Minimum
    {
        get => (LogLevel)_minimum;
        set => _minimum = (int)value;
    }

    /// <summary>
    /// Gatehouse categories follow the switch. Framework categories (Microsoft.*, System.*) stay at Warning unless the
    /// switch is at Trace: ASP.NET Core logs every request at Information, which would cost more than the proxying.
    /// </summary>
    public bool IsEnabled(string? category, LogLevel level)
    {
        if (level == LogLevel.None)
        {
            return false;
        }

        var minimum = Minimum;
        if (minimum != LogLevel.Trace && category is not null &&
            (category.StartsWith("Microsoft.", StringComparison.Ordinal) || category.StartsWith("System.", StringComparison.Ordinal)))
        {
            minimum = minimum > LogLevel.Warning ? minimum : LogLevel.Warning;
        }

        return level >= minimum;
    }
}
