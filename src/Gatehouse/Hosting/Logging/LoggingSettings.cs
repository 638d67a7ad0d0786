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
    /// Reads log_level, log_format, log_file and log_rotate_* (flags already merged into the config).
    /// <paramref name="defaultFileName"/> is <c>proxy.log</c> or <c>agent.log</c>. Returns every problem found.
    /// </summary>
    public static LoggingSettings From(GatehouseConfig config, string defaultFileName, out IReadOnlyList<string> errors)
    {
        var problems = new List<string>();
        string levelText = config.LogLevel ?? Defaults.LogLevel;
        if (!VaultLogLevel.TryParse(levelText, out var level))
        {
            problems.Add($"unknown log level: {levelText}");
            level = LogLevel.Information;
        }

        var format = LogFormat.Standard;
        switch ((config.LogFormat ?? Defaults.LogFormat).Trim().ToLowerInvariant())
        {
            case "standard":
                break;
            case "json":
                format = LogFormat.Json;
                break;
            default:
                problems.Add($"unknown log format: {config.LogFormat}; use standard or json");
                break;
        }

        if (config.LogRotateBytes is < 0)
        {
            problems.Add("log_rotate_bytes must not be negative");
        }

        if (config.LogRotateMaxFiles is < -1)
        {
            problems.Add("log_rotate_max_files must be -1 (keep no rotated files), 0 (keep all) or a positive count");
        }

        errors = problems;
        return new LoggingSettings
        {
            Level = level,
            Format = format,
            FilePath = string.IsNullOrEmpty(config.LogFile) ? null : LogFile.ResolvePath(config.LogFile, defaultFileName),
            RotateBytes = Math.Max(config.LogRotateBytes ?? 0, 0),
            RotateDuration = config.LogRotateDuration is { } d && d > TimeSpan.Zero ? d : Defaults.LogRotateDuration,
            RotateMaxFiles = config.LogRotateMaxFiles ?? 0,
        };
    }
}
