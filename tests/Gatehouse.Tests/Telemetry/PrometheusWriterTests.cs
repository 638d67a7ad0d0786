using System.Diagnostics.Metrics;
using Gatehouse.Telemetry;

namespace Gatehouse.Tests.Telemetry;

public sealed class PrometheusWriterTests
{
    [Fact]
    public void Prometheus_ScriptedRecordings_ProduceExactExposition()
    {
        using var h = new MetricsTestHarness();
        var success = h.Meter.CreateCounter<long>("vault.agent.auth.success");
        var inFlight = h.Meter.CreateUpDownCounter<long>("vault.gatehouse.proxy.in_flight", description: "Requests in flight.");
        var latency = h.Meter.CreateHistogram<double>(
            "vault.gatehouse.upstream.duration", "ms", null, null, new InstrumentAdvice<double> { HistogramBucketBoundaries = [10, 100] });

        success.Add(2);
        success.Add(1, new KeyValuePair<string, object?>("method", "approle"));
        inFlight.Add(3);
        inFlight.Add(-1);
        latency.Record(5);
        latency.Record(10);
        latency.Record(250);

        string text = PrometheusWriter.Write(h.Collector.Collect(), MetricsTestHarness.Options());

        Assert.Equal(
            """
            # HELP vault_agent_auth_success vault_agent_auth_success
            # TYPE vault_agent_auth_success counter
            vault_agent_auth_success 2
            vault_agent_auth_success{method="approle"} 1
            # HELP vault_gatehouse_proxy_in_flight Requests in flight.
            # TYPE vault_gatehouse_proxy_in_flight gauge
            vault_gatehouse_proxy_in_flight 2
            # HELP vault_gatehouse_upstream_duration vault_gatehouse_upstream_duration
            # TYPE vault_gatehouse_upstream_duration histogram
            vault_gatehouse_upstream_duration_bucket{le="10"} 2
            vault_gatehouse_upstream_duration_bucket{le="100"} 2
            vault_gatehouse_upstream_duration_bucket{le="+Inf"} 3
            vault_gatehouse_upstream_duration_sum 265
            vault_gatehouse_upstream_duration_count 3

            """.Replace("\r\n", "\n", StringComparison.Ordinal),
            text);
    }

    [Fact]
    public void Prometheus_MetricsPrefix_ReplacesLeadingVault()
    {
        using var h = new MetricsTestHarness();
        h.Meter.CreateCounter<long>("vault.agent.cache.hit").Add(1);
        h.Meter.CreateCounter<long>("upstream.retries").Add(1);

        string text = PrometheusWriter.Write(h.Collector.Collect(), MetricsTestHarness.Options(prefix: "gatehouse"));

        Assert.Contains("\ngatehouse_agent_cache_hit 1\n", "\n" + text, StringComparison.Ordinal);
        Assert.Contains("\ngatehouse_upstream_retries 1\n", "\n" + text, StringComparison.Ordinal);
        Assert.DoesNotContain("vault_", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Prometheus_Gauges_GetHostnameSegmentUnlessDisabled()
    {
        using var h = new MetricsTestHarness();
        h.Meter.CreateObservableGauge("vault.gatehouse.token.ttl", () => 42.5, "s");

        string withHost = PrometheusWriter.Write(h.Collector.Collect(), MetricsTestHarness.Options(host: "node-1.example", disableHostname: false));
        string without = PrometheusWriter.Write(h.Collector.Collect(), MetricsTestHarness.Options(host: "node-1.example"));

        Assert.Contains("\nvault_node_1_example_gatehouse_token_ttl_seconds 42.5\n", withHost, StringComparison.Ordinal);
        Assert.Contains("\nvault_gatehouse_token_ttl_seconds 42.5\n", without, StringComparison.Ordinal);
    }

    [Fact]
    public void Prometheus_LabelValues_AreEscaped()
    {
        using var h = new MetricsTestHarness();
        h.Meter.CreateCounter<int>("vault.gatehouse.requests").Add(1, new KeyValuePair<string, object?>("path", "a\"b\\c\nd"));

        string text = PrometheusWriter.Write(h.Collector.Collect(), MetricsTestHarness.Options());

        Assert.Contains("vault_gatehouse_requests_total{path=\"a\\\"b\\\\c\\nd\"} 1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Prometheus_SeriesNotUpdatedWithinRetention_AreLeftOut()
    {
        using var h = new MetricsTestHarness();
        var counter = h.Meter.CreateCounter<long>("vault.agent.proxy.success");
        counter.Add(1, new KeyValuePair<string, object?>("listener", "old"));
        h.Time.Advance(TimeSpan.FromHours(25));
        counter.Add(1, new KeyValuePair<string, object?>("listener", "new"));

        string text = PrometheusWriter.Write(h.Collector.Collect(), MetricsTestHarness.Options());

        Assert.Contains("listener=\"new\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("listener=\"old\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Prometheus_ConfiguredRetention_IsCheckedAtScrapeTimeAndAnUpdatedSeriesReturns()
    {
        using var h = new MetricsTestHarness();
        var options = MetricsOptions.From(new Gatehouse.Configuration.TelemetryConfig { PrometheusRetentionTime = TimeSpan.FromSeconds(30) }, "");
        var counter = h.Meter.CreateCounter<long>("vault.agent.proxy.success");
        var latency = h.Meter.CreateHistogram<double>("vault.gatehouse.upstream.duration", "ms");
        counter.Add(1);
        latency.Record(5);

        // Idle for exactly the retention time: still shown ("idle longer than" drops, as go-metrics' expiry does).
        h.Time.Advance(TimeSpan.FromSeconds(30));
        string atLimit = PrometheusWriter.Write(h.Collector.Collect(), options);
        Assert.Contains("\nvault_agent_proxy_success 1\n", "\n" + atLimit, StringComparison.Ordinal);
        Assert.Contains("vault_gatehouse_upstream_duration_count 1\n", atLimit, StringComparison.Ordinal);

        // One tick later both series, and their HELP/TYPE lines, are gone; nothing ran in between but the clock.
        h.Time.Advance(TimeSpan.FromTicks(1));
        Assert.Equal("", PrometheusWriter.Write(h.Collector.Collect(), options));

        // A recording brings the series back with its running total (no counter reset for Prometheus to see).
        counter.Add(1);
        string back = PrometheusWriter.Write(h.Collector.Collect(), options);
        Assert.Contains("\nvault_agent_proxy_success 2\n", "\n" + back, StringComparison.Ordinal);
        Assert.DoesNotContain("vault_gatehouse_upstream_duration", back, StringComparison.Ordinal);
    }

    [Fact]
    public void Collector_LabelCardinality_IsBoundedAndDropsAreCounted()
    {
        using var h = new MetricsTestHarness(maxSeries: 2);
        var counter = h.Meter.CreateCounter<long>("vault.gatehouse.by_path");
        for (int i = 0; i < 5; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("path", $"/v1/p{i}"));
        }

        counter.Add(1, new KeyValuePair<string, object?>("path", "/v1/p0"));
        counter.Add(1);

        var snapshot = h.Collector.Collect();
        var byPath = snapshot.Instruments.Single(i => i.Name == "vault.gatehouse.by_path");
        Assert.Equal(3, byPath.Series.Count); // unlabelled + 2 labelled
        Assert.Equal(2, byPath.Series.Single(s => s.Labels.Count == 1 && s.Labels[0].Value == "/v1/p0").Value);

        string text = PrometheusWriter.Write(snapshot, MetricsTestHarness.Options());
        Assert.Contains("vault_gatehouse_metrics_dropped_label_sets_total{instrument=\"vault.gatehouse.by_path\"} 3\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Collector_LabelOrder_DoesNotSplitSeries()
    {
        using var h = new MetricsTestHarness();
        var counter = h.Meter.CreateCounter<long>("vault.gatehouse.requests");
        counter.Add(1, new("listener", "0"), new("outcome", "ok"));
        counter.Add(1, new("outcome", "ok"), new("listener", "0"));

        string text = PrometheusWriter.Write(h.Collector.Collect(), MetricsTestHarness.Options());

        Assert.Contains("vault_gatehouse_requests_total{listener=\"0\",outcome=\"ok\"} 2\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Collector_ObservableCounter_ExportsRunningTotal()
    {
        using var h = new MetricsTestHarness();
        long total = 7;
        h.Meter.CreateObservableCounter("vault.gatehouse.cache.evictions", () => total);

        _ = h.Collector.Collect();
        total = 10;
        string text = PrometheusWriter.Write(h.Collector.Collect(), MetricsTestHarness.Options());

        Assert.Contains("# TYPE vault_gatehouse_cache_evictions_total counter\nvault_gatehouse_cache_evictions_total 10\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Collector_OnlyListensToItsMeter()
    {
        using var h = new MetricsTestHarness();
        using var other = new Meter(h.MeterName + ".other");
        other.CreateCounter<long>("vault.agent.auth.success").Add(1);

        Assert.Empty(h.Collector.Collect().Instruments);
    }

    [Fact]
    public void Collector_DefaultMeterName_IsGatehouse()
    {
        string name = "vault.gatehouse.test." + Guid.NewGuid().ToString("N");
        using var h = new MetricsTestHarness(meterName: GatehouseMetrics.MeterName);
        h.Meter.CreateCounter<long>(name).Add(4);

        Assert.Equal(4, h.Collector.Collect().Instruments.Single(i => i.Name == name).Series.Single().Value);
    }

    [Fact]
    public void Prometheus_And_VaultJson_ApplyPrefixFilter_AndTheHostLabel_AsGoMetricsDoesBeforeEverySink()
    {
        using var h = new MetricsTestHarness();
        h.Meter.CreateCounter<long>("vault.agent.proxy.success").Add(1, new KeyValuePair<string, object?>("listener", "0"));
        h.Meter.CreateCounter<long>("vault.agent.cache.hit").Add(1);
        var options = MetricsTestHarness.Options(host: "node1") with
        {
            EnableHostnameLabel = true,
            PrefixFilter = ["-vault.agent.cache"],
        };

        var snapshot = h.Collector.Collect();
        string text = PrometheusWriter.Write(snapshot, options);
        string json = System.Text.Encoding.UTF8.GetString(VaultJsonMetricsWriter.Write(snapshot, options));

        Assert.Contains("vault_agent_proxy_success{listener=\"0\",host=\"node1\"} 1\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("cache", text, StringComparison.Ordinal);
        Assert.Contains("\"Labels\":{\"listener\":\"0\",\"host\":\"node1\"}", json, StringComparison.Ordinal);
        Assert.DoesNotContain("vault.agent.cache.hit", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Prometheus_OurNamesFollowPrometheusConventions_VaultsNamesStayVaults()
    {
        using var h = new MetricsTestHarness();
        h.Meter.CreateCounter<long>("vault.agent.proxy.success").Add(1);
        h.Meter.CreateCounter<long>("vault.gatehouse.auth.relogins").Add(1);
        h.Meter.CreateObservableCounter("vault.gatehouse.metrics.push_failures", () => 3L);
        h.Meter.CreateHistogram<double>("vault.gatehouse.upstream.duration", "s").Record(0.02);
        h.Meter.CreateObservableGauge("vault.gatehouse.auth.token_ttl", () => 60.0, "s");
        h.Meter.CreateObservableGauge("vault.gatehouse.cache.max_bytes", () => 10L, "By");
        h.Meter.CreateObservableGauge("vault.gatehouse.cache.entries", () => 1L, "{entry}");

        string text = PrometheusWriter.Write(h.Collector.Collect(), MetricsTestHarness.Options());

        Assert.Contains("\nvault_agent_proxy_success 1\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvault_gatehouse_auth_relogins_total 1\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE vault_gatehouse_auth_relogins_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvault_gatehouse_metrics_push_failures_total 3\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvault_gatehouse_upstream_duration_seconds_count 1\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvault_gatehouse_auth_token_ttl_seconds 60\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvault_gatehouse_cache_max_bytes 10\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvault_gatehouse_cache_entries 1\n", text, StringComparison.Ordinal);
    }
}
