using System.Collections.Immutable;
using Gatehouse.Hcl;

namespace Gatehouse.Configuration;

/// <summary>The <c>telemetry</c> block.</summary>
internal sealed partial class ConfigBinder
{
    private static readonly string[] OtherTelemetryKeys =
    [
        "usage_gauge_period", "maximum_gauge_cardinality", "lease_metrics_epsilon",
        "num_lease_metrics_buckets", "add_lease_metrics_namespace_labels", "add_mount_point_rollback_metrics",
        "unauthenticated_metrics_access",
        "circonus_api_token", "circonus_api_app", "circonus_api_url", "circonus_submission_interval",
        "circonus_submission_url", "circonus_check_id", "circonus_check_force_metric_activation",
        "circonus_check_instance_id", "circonus_check_search_tag", "circonus_check_display_name",
        "circonus_check_tags", "circonus_broker_id", "circonus_broker_select_tag",
        "stackdriver_project_id", "stackdriver_location", "stackdriver_namespace", "stackdriver_debug_logs",
    ];

    private TelemetryConfig BindTelemetry(BlockEntry entry)
    {
        var r = Reader(entry.Body, "telemetry");
        var other = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in OtherTelemetryKeys)
        {
            switch (r.Raw(key))
            {
                case null:
                    break;
                case HclList list:
                    other[key] = string.Join(",", list.Items.Select(i => ValueParser.TryString(i, out var s, out _) ? s : ""));
                    break;
                case var node when ValueParser.TryString(node, out var text, out var error):
                    other[key] = text;
                    break;
                case var node:
                    Error(node.Position, r.Child(key), $"expected a string, number or boolean, got {ValueParser.Describe(node)}");
                    break;
            }
        }

        var prefixFilter = r.StringList("prefix_filter") ?? [];
        foreach (var (rule, position) in prefixFilter)
        {
            // Vault's parsePrefixFilter refuses both at start-up.
            if (rule.Length == 0)
                Error(position, r.Child("prefix_filter"), "cannot have empty filter rule in prefix_filter");
            else if (rule[0] is not ('+' or '-'))
                Error(position, r.Child("prefix_filter"), $"filter rule must begin with either '+' or '-': \"{rule}\"");
        }

        var telemetry = new TelemetryConfig
        {
            PrometheusRetentionTime = r.Duration("prometheus_retention_time"),
            DisableHostname = r.Bool("disable_hostname") ?? false,
            MetricsPrefix = r.String("metrics_prefix"),
            StatsdAddress = PushAddress(r, "statsd_address", allowUnix: false),
            StatsiteAddress = PushAddress(r, "statsite_address", allowUnix: false),
            DogstatsdAddress = PushAddress(r, "dogstatsd_addr", allowUnix: true),
            DogstatsdTags = [.. (r.StringList("dogstatsd_tags") ?? []).Select(t => t.Value)],
            EnableHostnameLabel = r.Bool("enable_hostname_label") ?? false,
            PrefixFilter = [.. prefixFilter.Select(t => t.Value)],
            FilterDefault = r.Bool("filter_default"),
            OtlpEndpoint = OtlpEndpoint(r),
            OtlpProtocol = r.Choice<string?>(
                "otlp_protocol", null, [("http/protobuf", "http/protobuf"), ("grpc", "grpc")],
                text => $"otlp_protocol \"{text}\" is not http/protobuf or grpc"),
            OtlpExportInterval = PositiveDuration(r, "otlp_export_interval"),
            OtlpTraces = OtlpTraces(r),
            Other = other,
            Position = entry.Position,
        };
        r.Finish();
        return telemetry;
    }

    /// <summary>
    /// A push sink's address: <c>host:port</c> (<c>[v6]:port</c>; an empty host is this machine, as for Go's net.Dial),
    /// and for dogstatsd also <c>unix:///path</c> (datadog-go's Unix datagram socket). Anything else is reported here:
    /// Vault would start and log a connection error every 5 seconds (statsd, statsite) or refuse to start (dogstatsd).
    /// </summary>
    private string? PushAddress(BlockReader r, string key, bool allowUnix)
    {
        string? address = r.String(key);
        if (string.IsNullOrEmpty(address))
            return address;
        if (allowUnix && address.StartsWith(Telemetry.PushSink.UnixPrefix, StringComparison.Ordinal))
        {
            if (address.Length == Telemetry.PushSink.UnixPrefix.Length)
                Error(r.Raw(key)!.Position, r.Child(key), $"\"{address}\" names no socket path");
            return address;
        }

        if (!Telemetry.PushSink.TrySplitAddress(address, out _, out _))
        {
            Error(r.Raw(key)!.Position, r.Child(key),
                $"\"{address}\" is not host:port" + (allowUnix ? " or unix:///path" : "") + " (a numeric port from 1 to 65535)");
        }

        return address;
    }

    /// <summary><c>otlp_endpoint</c>: an absolute http or https URL (the collector's base, without <c>/v1/metrics</c>).</summary>
    private string? OtlpEndpoint(BlockReader r)
    {
        string? endpoint = r.String("otlp_endpoint");
        if (string.IsNullOrEmpty(endpoint))
            return null;
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            Error(r.Raw("otlp_endpoint")!.Position, r.Child("otlp_endpoint"), $"\"{endpoint}\" is not an http:// or https:// URL");
        return endpoint;
    }

    /// <summary><c>otlp_traces</c>: spans go to the <c>otlp_endpoint</c> collector, so they need one.</summary>
    private bool OtlpTraces(BlockReader r)
    {
        var traces = r.Bool("otlp_traces") ?? false;
        if (traces && string.IsNullOrEmpty(r.String("otlp_endpoint")))
            Error(r.Raw("otlp_traces")!.Position, r.Child("otlp_traces"), "otlp_traces needs otlp_endpoint, the OTLP collector the spans are sent to");
        return traces;
    }

    private TimeSpan? PositiveDuration(BlockReader r, string key)
    {
        var value = r.Duration(key);
        if (value is { } d && d <= TimeSpan.Zero)
            Error(r.Raw(key)!.Position, r.Child(key), "must be more than 0");
        return value;
    }
}
