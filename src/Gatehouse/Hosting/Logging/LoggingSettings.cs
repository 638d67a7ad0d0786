using Gatehouse.Configuration;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting.Logging;

/// <summary>The logging members of the effective configuration, parsed.</summary>
internal sealed record LoggingSettings
{
    public LogLevel Level { get; init; } = LogLevel.Information;

    public LogFormat Format { get; init; } = LogFormat.Standard;

    /// <summary>The root module every line's module starts with: <c>proxy</c> or <c>agent</c>, as Vault names it.</summary>
    public string Root { get; init; } = "proxy";

    /// <summary>The resolved log file path (Vault's naming applied), or null for console only.</summary>
    public string? FilePath { get; init; }

    /// <summary>0 means no size limit.</summary>
    public long RotateBytes { get; init; }

    /// <summary>The default is 24 hours.</summary>
    public TimeSpan RotateDuration { get; init; } = Defaults.LogRotateDuration;

    /// <summary>0 keeps every rotated file; -1 keeps none.</summary>
    public int RotateMaxFiles { get; init; }

    /// <summary>
    /// A line Gatehouse writes on stdout or stderr itself, outside the loggers (a start-up failure, the pid file error):
    /// as it is in the standard format, where Vault too prints such lines plainly, and as an hclog JSON line under the
    /// root module in JSON mode, so that every line of a run parses.
    /// </summary>
    public string ConsoleLine(DateTimeOffset now, LogLevel level, string message) =>
        Format == LogFormat.Json ? LogFormatter.Format(LogFormat.Json, now, level, Root, message) : message + "\n";

    /// <summary>
    /// Maps log_level, log_format, log_file and log_rotate_* (flags and environment already merged into the config)
    /// to settings for <paramref name="mode"/> (<c>proxy</c> or <c>agent</c>: the root module and the default log file
    /// name, <c>proxy.log</c> or <c>agent.log</c>). There are no rules
    /// here: the validator checks every log_* value, with its place, before anything starts; a value it would refuse
    /// (possible only for a configuration built in code) maps to the default.
    /// </summary>
    public static LoggingSettings From(GatehouseConfig config, string mode) => new()
    {
        Root = mode == "agent" ? "agent" : "proxy",
        Level = VaultLogLevel.TryParse(config.LogLevel, out var level) ? level : VaultLogLevel.Default,
        Format = ValueParser.TryParseLogFormat(config.LogFormat, out var format) && format == "json" ? LogFormat.Json : LogFormat.Standard,
        FilePath = string.IsNullOrEmpty(config.LogFile) ? null : LogFile.ResolvePath(config.LogFile, mode == "agent" ? "agent.log" : "proxy.log"),
        RotateBytes = Math.Max(config.LogRotateBytes ?? 0, 0),
        RotateDuration = config.LogRotateDuration is { } d && d > TimeSpan.Zero ? d : Defaults.LogRotateDuration,
        RotateMaxFiles = Math.Max(config.LogRotateMaxFiles ?? 0, -1),
    };
}
