using Gatehouse.Configuration;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting.Logging;

/// <summary>Vault's level names (<c>-log-level</c>, <c>log_level</c>, <c>VAULT_LOG_LEVEL</c>) and their hclog labels.</summary>
internal static class VaultLogLevel
{
    /// <summary>The level when log_level is not set: info.</summary>
    public const LogLevel Default = LogLevel.Information;

    /// <summary>
    /// trace, debug, info (or notice), warn (or warning), error (or err), case-insensitive and trimmed, as Vault accepts
    /// them (<see cref="ValueParser.TryParseLogLevel"/>, the one list the validator checks too). False for anything
    /// else, empty included.
    /// </summary>
    public static bool TryParse(string? value, out LogLevel level)
    {
        level = !ValueParser.TryParseLogLevel(value, out var name) ? LogLevel.None : name switch
        {
            "trace" => LogLevel.Trace,
            "debug" => LogLevel.Debug,
            "info" => LogLevel.Information,
            "warn" => LogLevel.Warning,
            "error" => LogLevel.Error,
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
