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

        var telemetry = new TelemetryConfig
        {
            PrometheusRetentionTime = r.Duration("prometheus_retention_time"),
            DisableHostname = r.Bool("disable_hostname") ?? false,
            MetricsPrefix = r.String("metrics_prefix"),
            StatsdAddress = r.String("statsd_address"),
            StatsiteAddress = r.String("statsite_address"),
            DogstatsdAddress = r.String("dogstatsd_addr"),
            DogstatsdTags = [.. (r.StringList("dogstatsd_tags") ?? []).Select(t => t.Value)],
            EnableHostnameLabel = r.Bool("enable_hostname_label") ?? false,
            PrefixFilter = [.. (r.StringList("prefix_filter") ?? []).Select(t => t.Value)],
            FilterDefault = r.Bool("filter_default"),
            Other = other,
            Position = entry.Position,
        };
        r.Finish();
        return telemetry;
    }
}
