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
    /// Gatehouse categories follow the switch. Library categories (Microsoft.*, System.*, Yarp.*) stay at Warning
    /// unless the switch is at Trace: ASP.NET Core and YARP log every request at Information, which would cost more
    /// than the proxying. The request-line categories stay at Warning even at Trace: they print the full URL (query
    /// string, and a token in <c>auth/token/lookup/&lt;token&gt;</c>); Gatehouse's own per-request Debug line replaces them.
    /// </summary>
    public bool IsEnabled(string? category, LogLevel level)
    {
        if (level == LogLevel.None)
        {
            return false;
        }

        var minimum = Minimum;
        if (category is not null && IsLibrary(category) && (minimum != LogLevel.Trace || LogsRequestUrls(category)))
        {
            minimum = minimum > LogLevel.Warning ? minimum : LogLevel.Warning;
        }

        return level >= minimum;
    }

    private static bool IsLibrary(string category) =>
        category.StartsWith("Microsoft.", StringComparison.Ordinal)
        || category.StartsWith("System.", StringComparison.Ordinal)
        || category.StartsWith("Yarp.", StringComparison.Ordinal);

    private static bool LogsRequestUrls(string category) =>
        category.StartsWith("Microsoft.AspNetCore.Hosting.Diagnostics", StringComparison.Ordinal)
        || category.StartsWith("Yarp.ReverseProxy.Forwarder", StringComparison.Ordinal);
}
