using System.Globalization;
using System.Text;

namespace Gatehouse.Telemetry;

/// <summary>The three push protocols Vault's <c>telemetry</c> stanza names, each as go-metrics sends it.</summary>
internal enum PushProtocol
{
    /// <summary><c>statsd_address</c>: go-metrics' StatsdSink, UDP, packets of at most 1,400 bytes.</summary>
    Statsd,

    /// <summary><c>statsite_address</c>: go-metrics' StatsiteSink, the same lines over one TCP connection.</summary>
    Statsite,

    /// <summary><c>dogstatsd_addr</c>: go-metrics' DogStatsdSink over datadog-go, UDP, packets of at most 1,432 bytes, labels as tags.</summary>
    Dogstatsd,
}

/// <summary>
/// One metric as a statsd line, exactly as Vault writes it:
/// <list type="bullet">
/// <item>statsd and statsite (go-metrics <c>StatsdSink</c>/<c>StatsiteSink</c>): <c>name.labelvalue…:%f|type\n</c>, the
/// float32 value with six decimals, each label's <em>value</em> appended to the dotted name (names are lost), then
/// <c>:</c> and spaces turned into <c>_</c>.</item>
/// <item>dogstatsd (go-metrics <c>DogStatsdSink</c>, datadog-go v3): <c>name:value|type|#global,tags</c>, no newline
/// (lines in a packet are separated by one); the host name segment is left out of gauge names, counters are sent as
/// integers, gauges and timings in Go's shortest form of the float32 value; labels are <c>name:value</c> tags with
/// <c>:</c> and spaces in either turned into <c>_</c>, a label with an empty value is the bare name.</item>
/// </list>
/// Types: counters <c>c</c>, gauges <c>g</c>, histograms (go-metrics' samples and timers) <c>ms</c>.
/// </summary>
internal static class StatsdFormat
{
    public static string TypeOf(MetricKind kind) => kind switch
    {
        MetricKind.Counter => "c",
        MetricKind.Gauge => "g",
        _ => "ms",
    };

    /// <param name="name">The dotted exported name (for dogstatsd: without the host name segment).</param>
    /// <param name="labels">The measurement's labels in the order they were recorded.</param>
    /// <param name="hostLabel">The <c>host</c> label appended last (<c>enable_hostname_label</c>), or null.</param>
    public static string Line(
        PushProtocol protocol, string name, ReadOnlySpan<KeyValuePair<string, string>> labels, string? hostLabel, double value,
        MetricKind kind, IReadOnlyList<string> globalTags)
    {
        var line = new StringBuilder(name.Length + 32);
        if (protocol != PushProtocol.Dogstatsd)
        {
            line.Append(name);
            foreach (var (_, labelValue) in labels)
            {
                line.Append('.').Append(labelValue);
            }

            if (hostLabel is not null)
            {
                line.Append('.').Append(hostLabel);
            }

            Sanitize(line, 0);
            line.Append(':').Append(((double)(float)value).ToString("F6", CultureInfo.InvariantCulture))
                .Append('|').Append(TypeOf(kind)).Append('\n');
            return line.ToString();
        }

        line.Append(name);
        Sanitize(line, 0);
        line.Append(':');
        if (kind == MetricKind.Counter)
        {
            // go-metrics passes int64(float32 value) to datadog-go's Count.
            line.Append(((long)(float)value).ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            line.Append(GoShortestFloat((float)value));
        }

        line.Append('|').Append(TypeOf(kind));
        bool first = true;
        foreach (string tag in globalTags)
        {
            AppendTagSeparator(line, ref first);
            foreach (char c in tag)
            {
                if (c != '\n')
                {
                    line.Append(c);
                }
            }
        }

        foreach (var (labelName, labelValue) in labels)
        {
            AppendTag(line, labelName, labelValue, ref first);
        }

        if (hostLabel is not null)
        {
            AppendTag(line, "host", hostLabel, ref first);
        }

        return line.ToString();
    }

    /// <summary>Go's <c>strconv.FormatFloat(float64(v), 'f', -1, 64)</c>: the shortest digits, never an exponent.</summary>
    public static string GoShortestFloat(float value)
    {
        double d = value;
        if (!double.IsFinite(d))
        {
            return double.IsNaN(d) ? "NaN" : d > 0 ? "+Inf" : "-Inf";
        }

        string r = d.ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOfAny(['E', 'e']);
        if (e < 0)
        {
            return r;
        }

        // "1.5E+20" → digits "15", point after 1 + 20 places.
        bool negative = r[0] == '-';
        string mantissa = r[(negative ? 1 : 0)..e];
        int exponent = int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        int dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        string digits = dot < 0 ? mantissa : mantissa.Remove(dot, 1);
        int pointAt = (dot < 0 ? mantissa.Length : dot) + exponent;
        string fixedText = pointAt <= 0
            ? "0." + new string('0', -pointAt) + digits
            : pointAt >= digits.Length
                ? digits + new string('0', pointAt - digits.Length)
                : digits[..pointAt] + "." + digits[pointAt..];
        return negative ? "-" + fixedText : fixedText;
    }

    private static void AppendTag(StringBuilder line, string name, string value, ref bool first)
    {
        AppendTagSeparator(line, ref first);
        int start = line.Length;
        line.Append(name);
        if (value.Length > 0)
        {
            line.Append(':');
            int valueStart = line.Length;
            line.Append(value);
            Sanitize(line, valueStart);
            Sanitize(line, start, valueStart - 1);
        }
        else
        {
            Sanitize(line, start);
        }
    }

    private static void AppendTagSeparator(StringBuilder line, ref bool first)
    {
        line.Append(first ? "|#" : ",");
        first = false;
    }

    /// <summary>go-metrics' flattenKey: <c>:</c> and space become <c>_</c>.</summary>
    private static void Sanitize(StringBuilder text, int from, int to = -1)
    {
        int end = to < 0 ? text.Length : to;
        for (int i = from; i < end; i++)
        {
            if (text[i] is ':' or ' ')
            {
                text[i] = '_';
            }
        }
    }
}
