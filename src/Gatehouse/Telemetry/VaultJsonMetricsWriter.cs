using System.Globalization;
using System.Text.Json;

namespace Gatehouse.Telemetry;

/// <summary>
/// The JSON document Vault Agent's metrics endpoint returns: go-metrics' in-memory sink summary
/// (<c>Timestamp</c>, <c>Gauges</c>, <c>Points</c>, <c>Counters</c>, <c>Samples</c>). Counters and samples are the
/// statistics of the last finished 10-second interval (the current one just after start), so a series with no
/// recording in that interval is absent, as in Vault. Gauges show their latest value.
/// </summary>
internal static class VaultJsonMetricsWriter
{
    public const string ContentType = "application/json";

    public static byte[] Write(MetricsSnapshot snapshot, MetricsOptions options)
    {
        using var buffer = new MemoryStream();
        // Relaxed escaping: "+0000" must stay readable, as Go writes it.
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("Timestamp", GoTimeString(snapshot.IntervalStart));

            json.WriteStartArray("Gauges");
            foreach (var (name, instrument, series) in Entries(snapshot, options, MetricKind.Gauge))
            {
                json.WriteStartObject();
                json.WriteString("Name", name);
                WriteNumber(json, "Value", (float)series.Value);
                WriteLabels(json, options.WithHostLabel(series.Labels));
                json.WriteEndObject();
            }

            json.WriteEndArray();

            // go-metrics' key/value "points" (EmitKey); nothing in Gatehouse emits them.
            json.WriteStartArray("Points");
            json.WriteEndArray();

            WriteSampled(json, "Counters", Entries(snapshot, options, MetricKind.Counter), options);
            WriteSampled(json, "Samples", Entries(snapshot, options, MetricKind.Histogram), options);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Go's <c>time.Time.String()</c> for a UTC time rounded to the second: <c>2026-11-30 03:31:50 +0000 UTC</c>.</summary>
    public static string GoTimeString(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " +0000 UTC";

    private static List<(string Name, InstrumentSnapshot Instrument, SeriesSnapshot Series)> Entries(
        MetricsSnapshot snapshot, MetricsOptions options, MetricKind kind)
    {
        var entries = new List<(string, InstrumentSnapshot, SeriesSnapshot)>();
        foreach (var instrument in snapshot.Instruments.Where(i => i.Kind == kind))
        {
            string name = options.ExportName(instrument.Name, kind);
            if (!options.Allows(name))
            {
                continue;
            }

            foreach (var series in instrument.Series)
            {
                if (kind == MetricKind.Gauge || series.Interval is not null)
                {
                    entries.Add((name, instrument, series));
                }
            }
        }

        // Series are already ordered by labels within an instrument; a stable sort by name keeps that order.
        return [.. entries.OrderBy(e => e.Item1, StringComparer.Ordinal)];
    }

    private static void WriteSampled(
        Utf8JsonWriter json, string property, List<(string Name, InstrumentSnapshot Instrument, SeriesSnapshot Series)> entries, MetricsOptions options)
    {
        json.WriteStartArray(property);
        foreach (var (name, _, series) in entries)
        {
            var stats = series.Interval!.Value;
            json.WriteStartObject();
            json.WriteString("Name", name);
            json.WriteNumber("Count", stats.Count);
            WriteNumber(json, "Rate", stats.Rate);
            WriteNumber(json, "Sum", stats.Sum);
            WriteNumber(json, "Min", stats.Min);
            WriteNumber(json, "Max", stats.Max);
            WriteNumber(json, "Mean", stats.Mean);
            WriteNumber(json, "Stddev", stats.Stddev);
            WriteLabels(json, options.WithHostLabel(series.Labels));
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteLabels(Utf8JsonWriter json, IReadOnlyList<KeyValuePair<string, string>> labels)
    {
        json.WriteStartObject("Labels");
        foreach (var (key, value) in labels)
        {
            json.WriteString(key, value);
        }

        json.WriteEndObject();
    }

    // JSON has no NaN or infinity; go-metrics would fail the whole response, we write 0 for that one value.
    private static void WriteNumber(Utf8JsonWriter json, string name, double value) =>
        json.WriteNumber(name, double.IsFinite(value) ? value : 0);

    private static void WriteNumber(Utf8JsonWriter json, string name, float value) =>
        json.WriteNumber(name, float.IsFinite(value) ? value : 0);
}
