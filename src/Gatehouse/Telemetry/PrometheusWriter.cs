using System.Globalization;
using System.Text;

namespace Gatehouse.Telemetry;

/// <summary>
/// Prometheus text exposition format 0.0.4. Names are the exported dotted names with every character Prometheus does
/// not allow (including <c>.</c> and <c>-</c>) turned into <c>_</c>; Vault's counters keep Vault's names (no
/// <c>_total</c>), ours follow Prometheus' naming (<see cref="NameOf"/>).
/// <c>prefix_filter</c> and <c>enable_hostname_label</c> apply, as go-metrics applies them before every sink.
/// </summary>
internal static class PrometheusWriter
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Write(MetricsSnapshot snapshot, MetricsOptions options)
    {
        var text = new StringBuilder();
        var retentionCutoff = snapshot.Timestamp - options.PrometheusRetention;
        foreach (var instrument in snapshot.Instruments)
        {
            // Like go-metrics' Prometheus sink: series not updated within the retention time are not shown.
            var series = instrument.Series.Where(s => s.LastUpdated >= retentionCutoff).ToList();
            if (series.Count == 0)
            {
                continue;
            }

            string dotted = options.ExportName(instrument.Name, instrument.Kind);
            if (!options.Allows(dotted))
            {
                continue;
            }

            string name = NameOf(instrument.Name, instrument.Unit, instrument.Kind, options);
            string help = string.IsNullOrEmpty(instrument.Description) ? name : instrument.Description;
            text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(help)).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(instrument.Kind switch
            {
                MetricKind.Counter => "counter",
                MetricKind.Gauge => "gauge",
                _ => "histogram",
            }).Append('\n');

            foreach (var s in series)
            {
                var labels = options.WithHostLabel(s.Labels);
                if (instrument.Kind != MetricKind.Histogram)
                {
                    AppendSample(text, name, labels, null, s.Value);
                    continue;
                }

                long cumulative = 0;
                for (int i = 0; i < s.BucketCounts!.Count; i++)
                {
                    cumulative += s.BucketCounts[i];
                    string le = i < instrument.Bounds!.Count ? FormatNumber(instrument.Bounds[i]) : "+Inf";
                    AppendSample(text, name + "_bucket", labels, le, cumulative);
                }

                AppendSample(text, name + "_sum", labels, null, s.Sum);
                AppendSample(text, name + "_count", labels, null, s.Count);
            }
        }

        return text.ToString();
    }

    /// <summary>
    /// The Prometheus name of an instrument. Vault's names (<c>vault.agent.*</c>, <c>vault.proxy.*</c>) are kept as
    /// Vault exports them, for compatibility. Ours (<c>vault.gatehouse.*</c>) follow Prometheus' conventions: the unit
    /// in the name (<c>_seconds</c>, <c>_bytes</c>) and <c>_total</c> on counters; so do .NET's runtime metrics
    /// (<c>dotnet_gc_collections_total</c>, <c>dotnet_process_memory_working_set_bytes</c>), as OpenTelemetry's
    /// Prometheus exporter names them.
    /// </summary>
    public static string NameOf(string instrumentName, string? unit, MetricKind kind, MetricsOptions options)
    {
        string name = SanitizeName(options.ExportName(instrumentName, kind));
        if (!instrumentName.StartsWith(OursPrefix, StringComparison.Ordinal) && !instrumentName.StartsWith(MetricsOptions.RuntimePrefix, StringComparison.Ordinal))
        {
            return name;
        }

        string unitSuffix = unit switch
        {
            "s" => "_seconds",
            "By" => "_bytes",
            _ => "",
        };
        if (unitSuffix.Length > 0 && !name.EndsWith(unitSuffix, StringComparison.Ordinal))
        {
            name += unitSuffix;
        }

        return kind == MetricKind.Counter && !name.EndsWith("_total", StringComparison.Ordinal) ? name + "_total" : name;
    }

    private const string OursPrefix = "vault.gatehouse.";

    private static void AppendSample(StringBuilder text, string name, IReadOnlyList<KeyValuePair<string, string>> labels, string? le, double value)
    {
        text.Append(name);
        if (labels.Count > 0 || le is not null)
        {
            text.Append('{');
            bool first = true;
            foreach (var (key, labelValue) in labels)
            {
                if (!first)
                {
                    text.Append(',');
                }

                first = false;
                text.Append(SanitizeLabelName(key)).Append("=\"").Append(EscapeLabelValue(labelValue)).Append('"');
            }

            if (le is not null)
            {
                text.Append(first ? "" : ",").Append("le=\"").Append(le).Append('"');
            }

            text.Append('}');
        }

        text.Append(' ').Append(FormatNumber(value)).Append('\n');
    }

    public static string FormatNumber(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary><c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>; anything else becomes <c>_</c>.</summary>
    public static string SanitizeName(string name) => Sanitize(name, allowColon: true);

    public static string SanitizeLabelName(string name) => Sanitize(name, allowColon: false);

    private static string Sanitize(string name, bool allowColon)
    {
        var chars = name.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            char c = chars[i];
            bool ok = char.IsAsciiLetter(c) || c == '_' || (allowColon && c == ':') || (i > 0 && char.IsAsciiDigit(c));
            if (!ok)
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }

    private static string EscapeHelp(string help) => help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string EscapeLabelValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
