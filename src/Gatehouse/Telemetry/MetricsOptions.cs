using Gatehouse.Configuration;

namespace Gatehouse.Telemetry;

/// <summary>The <c>telemetry</c> stanza as the metrics writers use it.</summary>
internal sealed record MetricsOptions
{
    /// <summary>Replaces the leading <c>vault</c> of every name. The default is vault.</summary>
    public string Prefix { get; init; } = DefaultPrefix;

    /// <summary>When false, gauges get the host name as their second name segment, as go-metrics does.</summary>
    public bool DisableHostname { get; init; }

    public string HostName { get; init; } = "";

    /// <summary>Zero means Prometheus output is off.</summary>
    public TimeSpan PrometheusRetention { get; init; }

    public bool PrometheusEnabled => PrometheusRetention > TimeSpan.Zero;

    public const string DefaultPrefix = "vault";

    /// <summary>
    /// Vault's rules: with no <c>telemetry</c> stanza Prometheus is off; with one, the retention defaults to 24 hours
    /// (an explicit 0 turns it off).
    /// </summary>
    public static MetricsOptions From(TelemetryConfig? telemetry, string hostName) => new()
    {
        Prefix = string.IsNullOrEmpty(telemetry?.MetricsPrefix) ? DefaultPrefix : telemetry.MetricsPrefix,
        DisableHostname = telemetry?.DisableHostname ?? false,
        HostName = hostName,
        PrometheusRetention = telemetry is null ? TimeSpan.Zero : telemetry.PrometheusRetentionTime ?? Defaults.PrometheusRetentionTime,
    };

    /// <summary>
    /// One startup warning per push sink the stanza names: Gatehouse accepts statsd_address, statsite_address and
    /// dogstatsd_addr but does not send to them yet, and says so instead of staying silent.
    /// </summary>
    public static IReadOnlyList<string> UnsupportedSinkWarnings(TelemetryConfig? telemetry)
    {
        var warnings = new List<string>();
        Add("statsd_address", telemetry?.StatsdAddress);
        Add("statsite_address", telemetry?.StatsiteAddress);
        Add("dogstatsd_addr", telemetry?.DogstatsdAddress);
        return warnings;

        void Add(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                warnings.Add(
                    $"telemetry.{key} = \"{value}\" is not supported yet and is ignored: no metrics are sent there; " +
                    "scrape /agent/v1/metrics?format=prometheus (or /proxy/v1/metrics) instead.");
            }
        }
    }

    /// <summary>
    /// The dotted name as exported: a leading <c>vault.</c> (the service name, as the instruments are declared) is
    /// replaced by <see cref="Prefix"/>; other names get the prefix in front. Gauges get the host name after the
    /// prefix unless <see cref="DisableHostname"/>.
    /// </summary>
    public string ExportName(string instrumentName, MetricKind kind)
    {
        string key = instrumentName.StartsWith(DefaultPrefix + ".", StringComparison.Ordinal)
            ? instrumentName[(DefaultPrefix.Length + 1)..]
            : instrumentName;
        return kind == MetricKind.Gauge && !DisableHostname && HostName.Length > 0
            ? $"{Prefix}.{HostName}.{key}"
            : $"{Prefix}.{key}";
    }
}
