using System.Diagnostics.Metrics;
using System.Text;
using Gatehouse.Telemetry;

namespace Gatehouse.Tests.Telemetry;

public sealed class VaultJsonMetricsWriterTests
{
    [Fact]
    public void Json_ScriptedRecordings_MatchVaultInmemSinkShape()
    {
        using var h = new MetricsTestHarness();
        var success = h.Meter.CreateCounter<long>("vault.agent.auth.success");
        var inFlight = h.Meter.CreateUpDownCounter<int>("vault.gatehouse.proxy.in_flight");
        var latency = h.Meter.CreateHistogram<double>("vault.gatehouse.upstream.duration", "ms");
        success.Add(2);
        success.Add(3);
        inFlight.Add(2);
        latency.Record(4, new KeyValuePair<string, object?>("listener", "0"));

        string json = Encoding.UTF8.GetString(VaultJsonMetricsWriter.Write(h.Collector.Collect(), MetricsTestHarness.Options(host: "host1", disableHostname: false)));

        Assert.Equal(
            string.Concat(
                """{"Timestamp":"2026-11-30 03:31:50 +0000 UTC","Gauges":[{"Name":"vault.host1.gatehouse.proxy.in_flight","Value":2,"Labels":{}}],"Points":[],""",
                """ "Counters":[{"Name":"vault.agent.auth.success","Count":2,"Rate":0.5,"Sum":5,"Min":2,"Max":3,"Mean":2.5,"Stddev":0.7071067811865476,"Labels":{}}],""".TrimStart(),
                """ "Samples":[{"Name":"vault.gatehouse.upstream.duration","Count":1,"Rate":0.4,"Sum":4,"Min":4,"Max":4,"Mean":4,"Stddev":0,"Labels":{"listener":"0"}}]}""".TrimStart()),
            json);
    }

    [Fact]
    public void Json_ShowsLastFinishedInterval_AndDropsQuietCounters()
    {
        using var h = new MetricsTestHarness();
        var success = h.Meter.CreateCounter<long>("vault.agent.proxy.success");
        success.Add(1); // interval 03:31:50

        h.Time.Advance(TimeSpan.FromSeconds(10)); // now 03:32:05, shows 03:31:50
        success.Add(5); // interval 03:32:00
        string first = Encoding.UTF8.GetString(VaultJsonMetricsWriter.Write(h.Collector.Collect(), MetricsTestHarness.Options()));
        Assert.Contains("\"Timestamp\":\"2026-11-30 03:31:50 +0000 UTC\"", first, StringComparison.Ordinal);
        Assert.Contains("\"Count\":1,\"Rate\":0.1,\"Sum\":1", first, StringComparison.Ordinal);

        h.Time.Advance(TimeSpan.FromSeconds(10)); // now 03:32:15, shows 03:32:00
        string second = Encoding.UTF8.GetString(VaultJsonMetricsWriter.Write(h.Collector.Collect(), MetricsTestHarness.Options()));
        Assert.Contains("\"Count\":1,\"Rate\":0.5,\"Sum\":5", second, StringComparison.Ordinal);

        h.Time.Advance(TimeSpan.FromSeconds(10)); // now 03:32:25, shows 03:32:10: nothing recorded
        string third = Encoding.UTF8.GetString(VaultJsonMetricsWriter.Write(h.Collector.Collect(), MetricsTestHarness.Options()));
        Assert.Contains("\"Counters\":[]", third, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_EmptyCollector_HasEveryArray()
    {
        using var h = new MetricsTestHarness();

        string json = Encoding.UTF8.GetString(VaultJsonMetricsWriter.Write(h.Collector.Collect(), MetricsTestHarness.Options()));

        Assert.Equal("""{"Timestamp":"2026-11-30 03:31:50 +0000 UTC","Gauges":[],"Points":[],"Counters":[],"Samples":[]}""", json);
    }
}
