using Gatehouse.Configuration;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Hosting.Logging;

/// <summary>The logging members of the effective configuration, parsed.</summary>
internal sealed record LoggingSettings
{
    public LogLevel Level { get; init; } = LogLevel.Information;

    public LogFormat Format { get; init; } = LogFormat.Standard;

    /// <summary>The resolved log file path (Vault's naming applied), or null for console only.</summary>
    public string? FilePath { get; init; }

    /// <summary>0 means no size limit.</summary>
    public long RotateBytes { get; init; }

    /// <summary>The default is 24 hours.</summary>
    public TimeSpan RotateDuration { get; init; } = Defaults.LogRotateDuration;

    /// <summary>0 keeps every rotated file; -1 keeps none.</summary>
    public int RotateMaxFiles { get; init; }

    /// <summary>
    /// Maps log_level, log_format, log_file and log_rotate_* (flags and environment already merged into the config)
    /// to settings. <paramref name="defaultFileName"/> is <c>proxy.log</c> or <c>agent.log</c>. There are no rules
    /// here: the validator checks every log_* value, with its place, before anything starts; a value it would refuse
    /// (possible only for a configuration built in code) maps to the default.
    /// </summary>
    public static LoggingSettings From(GatehouseConfig config, string defaultFileName) => new()
    {
        Level = VaultLogLevel.TryParse(config.LogLevel, out var level) ? level : VaultLogLevel.Default,
        Format = ValueParser.TryParseLogFormat(config.LogFormat, out var format) && format == "json" ? LogFormat.Json : LogFormat.Standard,
        FilePath = string.IsNullOrEmpty(config.LogFile) ? null : LogFile.ResolvePath(config.LogFile, defaultFileName),
        RotateBytes = Math.Max(config.LogRotateBytes ?? 0, 0),
        RotateDuration = config.LogRotateDuration is { } d && d > TimeSpan.Zero ? d : Defaults.LogRotateDuration,
        RotateMaxFiles = Math.Max(config.LogRotateMaxFiles ?? 0, -1),
    };
}
