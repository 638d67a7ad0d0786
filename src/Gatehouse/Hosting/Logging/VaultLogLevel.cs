using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting.Logging;

/// <summary>Vault's level names (<c>-log-level</c>, <c>log_level</c>, <c>VAULT_LOG_LEVEL</c>) and their hclog labels.</summary>
internal static class VaultLogLevel
{
    /// <summary>
    /// trace, debug, info (or notice), warn (or warning), error (or err), case-insensitive and trimmed, as Vault accepts
    /// them. Returns false for anything else; the caller reports <c>unknown log level: &lt;value&gt;</c>.
    /// </summary>
    public static bool TryParse(string? value, out LogLevel level)
    {
        level = (value ?? "").Trim().ToLowerInvariant() switch
        {
            "trace" => LogLevel.Trace,
            "debug" => LogLevel.Debug,
            "info" or "notice" => LogLevel.Information,
            "warn" or "warning" => LogLevel.Warning,
            "err" or "error" => LogLevel.Error,
            _ => LogLevel.None,
        };
        return level != LogLevel.None;
    }

    /// <summary>The name Vault prints (banner, JSON <c>@level</c>): trace, debug, info, warn, error.</summary>
    public static string Name(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        _ => "error",
    };

    /// <summary>hclog's standard-format label, padded to the same width: <c>[INFO]  </c>.</summary>
    public static string Label(LogLevel level) => level switch
    {
        LogLevel.Trace => "[TRACE] ",
        LogLevel.Debug => "[DEBUG] ",
        LogLevel.Information => "[INFO]  ",
        LogLevel.Warning => "[WARN]  ",
        _ => "[ERROR] ",
    };
}
