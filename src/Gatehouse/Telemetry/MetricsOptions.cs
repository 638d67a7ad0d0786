using Gatehouse.Configuration;

namespace Gatehouse.Telemetry;

/// <summary>The <c>telemetry</c> stanza as the metrics writers use it.</summary>
internal sealed record MetricsOptions
{
    /// <summary>Replaces the leading <c>vault</c> of every name. The default is vault.</summary>
    public string Prefix { get; init; } = DefaultPrefix;

    /// <summary>
    /// When false, gauges get the host name as their second name segment, as go-metrics does. <see cref="From"/> sets it
    /// as Vault does: true unless the stanza names two or more sinks besides the in-memory one and leaves
    /// <c>disable_hostname</c> false (see <see cref="ExternalSinkCount"/>).
    /// </summary>
    public bool DisableHostname { get; init; }

    public string HostName { get; init; } = "";

    /// <summary>Zero means Prometheus output is off.</summary>
    public TimeSpan PrometheusRetention { get; init; }

    public bool PrometheusEnabled => PrometheusRetention > TimeSpan.Zero;

    /// <summary>
    /// <c>enable_hostname_label</c>: the host name is a <c>host</c> label on every metric (last, as go-metrics appends
    /// it), and gauges no longer get it as a name segment.
    /// </summary>
    public bool EnableHostnameLabel { get; init; }

    /// <summary><c>prefix_filter</c> as written (<c>+prefix</c> allows, <c>-prefix</c> blocks; other rules are ignored, as Vault does).</summary>
    public IReadOnlyList<string> PrefixFilter
    {
        get;
        init
        {
            field = value;
            _rules = ParseRules(value);
        }
    } = [];

    /// <summary><c>filter_default</c>: whether a name no rule matches is exported. The default is true.</summary>
    public bool FilterDefault { get; init; } = true;

    /// <summary><c>statsd_address</c> (UDP), <c>statsite_address</c> (TCP), <c>dogstatsd_addr</c> (UDP); null when not set.</summary>
    public string? StatsdAddress { get; init; }

    public string? StatsiteAddress { get; init; }

    public string? DogstatsdAddress { get; init; }

    /// <summary><c>dogstatsd_tags</c>: sent with every dogstatsd line, before the metric's own tags.</summary>
    public IReadOnlyList<string> DogstatsdTags { get; init; } = [];

    /// <summary>The <c>host</c> label every series gets, or null (<see cref="EnableHostnameLabel"/> off or no host name).</summary>
    public string? HostLabel => EnableHostnameLabel && HostName.Length > 0 ? HostName : null;

    private readonly List<(string Prefix, bool Allowed)> _rules = [];

    public const string DefaultPrefix = "vault";

    /// <summary>The names of the runtime's own metrics (<see cref="MetricsCollector.RuntimeMeterName"/>).</summary>
    public const string RuntimePrefix = "dotnet.";

    /// <summary>
    /// Vault's rules: with no <c>telemetry</c> stanza Prometheus is off; with one, the retention defaults to 24 hours
    /// (an explicit 0 turns it off).
    /// </summary>
    public static MetricsOptions From(TelemetryConfig? telemetry, string hostName) => new()
    {
        Prefix = string.IsNullOrEmpty(telemetry?.MetricsPrefix) ? DefaultPrefix : telemetry.MetricsPrefix,
        DisableHostname = (telemetry?.DisableHostname ?? false) || ExternalSinkCount(telemetry) < 2,
        HostName = hostName,
        PrometheusRetention = telemetry is null ? TimeSpan.Zero : telemetry.PrometheusRetentionTime ?? Defaults.PrometheusRetentionTime,
        EnableHostnameLabel = telemetry?.EnableHostnameLabel ?? false,
        PrefixFilter = telemetry?.PrefixFilter ?? [],
        FilterDefault = telemetry?.FilterDefault ?? true,
        StatsdAddress = NullIfEmpty(telemetry?.StatsdAddress),
        StatsiteAddress = NullIfEmpty(telemetry?.StatsiteAddress),
        DogstatsdAddress = NullIfEmpty(telemetry?.DogstatsdAddress),
        DogstatsdTags = telemetry?.DogstatsdTags ?? [],
    };

    /// <summary>
    /// The sinks Vault's SetupTelemetry puts beside the in-memory one: Prometheus (a non-zero retention), statsite,
    /// statsd, Circonus (<c>circonus_api_token</c> or <c>circonus_submission_url</c>), dogstatsd and Stackdriver
    /// (<c>stackdriver_project_id</c>). With fewer than two, Vault turns the host name segment off whatever
    /// <c>disable_hostname</c> says. Gatehouse does not send to Circonus or Stackdriver, but counts them as Vault does
    /// so that names stay the same.
    /// </summary>
    public static int ExternalSinkCount(TelemetryConfig? telemetry)
    {
        if (telemetry is null)
        {
            return 0;
        }

        int count = 0;
        if ((telemetry.PrometheusRetentionTime ?? Defaults.PrometheusRetentionTime) != TimeSpan.Zero)
        {
            count++;
        }

        count += new[] { telemetry.StatsiteAddress, telemetry.StatsdAddress, telemetry.DogstatsdAddress }.Count(a => !string.IsNullOrEmpty(a));
        if (Set("circonus_api_token") || Set("circonus_submission_url"))
        {
            count++;
        }

        if (Set("stackdriver_project_id"))
        {
            count++;
        }

        return count;

        bool Set(string key) => telemetry.Other.TryGetValue(key, out string? value) && value.Length > 0;
    }

    /// <summary>
    /// Vault's start-up warning when the host name segment is on (two or more sinks and <c>disable_hostname</c> false),
    /// word for word; null otherwise.
    /// </summary>
    public static string? HostnameWarning(TelemetryConfig? telemetry) =>
        telemetry is { DisableHostname: false } && ExternalSinkCount(telemetry) >= 2
            ? "telemetry.disable_hostname has been set to false. Recommended setting is true for Prometheus to avoid poorly named metrics."
            : null;

    /// <summary>
    /// go-metrics' filter, which Vault applies before every sink (Prometheus, the JSON document, statsd, …): the
    /// longest <see cref="PrefixFilter"/> rule that is a prefix of the dotted exported name decides (a block rule wins
    /// over an allow rule for the same prefix); with no match, <see cref="FilterDefault"/>.
    /// </summary>
    public bool Allows(string exportedName)
    {
        int longest = -1;
        bool allowed = FilterDefault;
        foreach (var (prefix, allow) in _rules)
        {
            if (prefix.Length > longest && exportedName.StartsWith(prefix, StringComparison.Ordinal))
            {
                longest = prefix.Length;
                allowed = allow;
            }
        }

        return allowed;
    }

    private static List<(string, bool)> ParseRules(IReadOnlyList<string> rules)
    {
        // As go-metrics builds its tree: allow rules first, then block rules, so a block replaces an allow of the same prefix.
        var byPrefix = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (string rule in rules.Where(r => r.StartsWith('+')))
        {
            byPrefix[rule[1..]] = true;
        }

        foreach (string rule in rules.Where(r => r.StartsWith('-')))
        {
            byPrefix[rule[1..]] = false;
        }

        return [.. byPrefix.Select(kv => (kv.Key, kv.Value))];
    }

    /// <summary>The series' labels with <see cref="HostLabel"/> appended last, as go-metrics appends it; the labels themselves when it is off.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> WithHostLabel(IReadOnlyList<KeyValuePair<string, string>> labels) =>
        HostLabel is { } host ? [.. labels, new KeyValuePair<string, string>("host", host)] : labels;

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>
    /// The dotted name as exported: a leading <c>vault.</c> (the service name, as the instruments are declared) is
    /// replaced by <see cref="Prefix"/>; other names get the prefix in front. Gauges get the host name after the
    /// prefix unless <see cref="DisableHostname"/> or <see cref="EnableHostnameLabel"/>.
    /// </summary>
    public string ExportName(string instrumentName, MetricKind kind, bool withHostName = true)
    {
        // .NET's runtime metrics keep their OpenTelemetry names (dotnet.gc.collections): no prefix, no host segment.
        if (instrumentName.StartsWith(RuntimePrefix, StringComparison.Ordinal))
        {
            return instrumentName;
        }

        string key = instrumentName.StartsWith(DefaultPrefix + ".", StringComparison.Ordinal)
            ? instrumentName[(DefaultPrefix.Length + 1)..]
            : instrumentName;
        return kind == MetricKind.Gauge && withHostName && !DisableHostname && !EnableHostnameLabel && HostName.Length > 0
            ? $"{Prefix}.{HostName}.{key}"
            : $"{Prefix}.{key}";
    }
}
