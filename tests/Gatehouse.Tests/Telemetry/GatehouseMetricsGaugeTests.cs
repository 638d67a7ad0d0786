using System.Text.RegularExpressions;
using System.Diagnostics.Metrics;
using Gatehouse.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Telemetry;

/// <summary>The gauges the alert rules divide and compare: the cache's bounds, and whether Vault answers.</summary>
public sealed class GatehouseMetricsGaugeTests : IDisposable
{
    private readonly ServiceProvider _provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 11, 0, 0, TimeSpan.Zero));
    private readonly GatehouseMetrics _metrics;
    private readonly MetricsCollector _collector;

    public GatehouseMetricsGaugeTests()
    {
        var factory = _provider.GetRequiredService<IMeterFactory>();
        _metrics = new GatehouseMetrics(factory);
        _collector = new MetricsCollector(_time, scope: factory);
    }

    public void Dispose()
    {
        _collector.Dispose();
        _metrics.Dispose();
        _provider.Dispose();
    }

    private double? Gauge(string name) =>
        _collector.Collect().Instruments.Single(i => i.Name == name).Series.SingleOrDefault()?.Value;

    [Fact]
    public void CacheBounds_AreGaugesBesideTheCacheSize_OnlyWithACache()
    {
        Assert.Null(Gauge("vault.gatehouse.cache.max_entries"));

        _metrics.ObserveCache(() => 3, () => 1200, maxEntries: 1000, maxBytes: 268435456);

        Assert.Equal(3, Gauge("vault.gatehouse.cache.entries"));
        Assert.Equal(1000, Gauge("vault.gatehouse.cache.max_entries"));
        Assert.Equal(1200, Gauge("vault.gatehouse.cache.bytes"));
        Assert.Equal(268435456, Gauge("vault.gatehouse.cache.max_bytes"));
    }

    [Fact]
    public void UpstreamReachable_FollowsVaultReachability_WithTheSecondsSinceTheFirstFailure()
    {
        var reachability = new VaultReachability(_time);
        _metrics.ObserveReachability(reachability);
        Assert.Equal(1, Gauge("vault.gatehouse.upstream.reachable"));
        Assert.Equal(0, Gauge("vault.gatehouse.upstream.unreachable_duration"));

        reachability.ReportFailure();
        _time.Advance(TimeSpan.FromSeconds(90.5));
        reachability.ReportFailure();

        Assert.Equal(0, Gauge("vault.gatehouse.upstream.reachable"));
        Assert.Equal(90, Gauge("vault.gatehouse.upstream.unreachable_duration"));

        reachability.ReportSuccess();
        Assert.Equal(1, Gauge("vault.gatehouse.upstream.reachable"));
        Assert.Equal(0, Gauge("vault.gatehouse.upstream.unreachable_duration"));
    }

    [Fact]
    public void ListenersAreLabelledByAddress_AndFailureSeriesStartAtZero()
    {
        using var scope = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var ownFactory = scope.GetRequiredService<IMeterFactory>();
        using var collector = new MetricsCollector(_time, scope: ownFactory);
        using var metrics = new GatehouseMetrics(ownFactory, ["127.0.0.1:8100", null, "/run/gatehouse.sock"]);
        Assert.DoesNotContain(collector.Collect().Instruments, i => i.Name == "vault.agent.proxy.error" && i.Series.Count > 0);
        metrics.StartFailureSeriesAtZero();

        var before = collector.Collect().Instruments.ToDictionary(i => i.Name);
        Assert.Equal(
            ["listener=/run/gatehouse.sock,outcome=error", "listener=127.0.0.1:8100,outcome=error"],
            before["vault.gatehouse.proxy.requests"].Series.Select(Labels).Order(StringComparer.Ordinal));
        Assert.All(before["vault.gatehouse.proxy.requests"].Series, s => Assert.Equal(0, s.Value));
        foreach (string name in new[] { "vault.agent.auth.failure", "vault.proxy.auth.failure", "vault.agent.proxy.error", "vault.gatehouse.upstream.shed", "vault.gatehouse.auth.relogins" })
        {
            Assert.Equal(0, Assert.Single(before[name].Series).Value);
            Assert.Null(Assert.Single(before[name].Series).Interval); // no sample in the JSON document's interval
        }

        metrics.RequestStarted(2);
        metrics.RequestCompleted(2, ProxyOutcomeKind.Success, null);
        metrics.RequestStarted(1);
        metrics.RequestCompleted(1, ProxyOutcomeKind.Success, null);

        var after = collector.Collect().Instruments.Single(i => i.Name == "vault.gatehouse.proxy.requests");
        Assert.Contains("listener=/run/gatehouse.sock,outcome=success", after.Series.Select(Labels));
        Assert.Contains("listener=1,outcome=success", after.Series.Select(Labels));
    }

    private static string Labels(SeriesSnapshot series) => string.Join(",", series.Labels.Select(l => $"{l.Key}={l.Value}"));

    [Fact]
    public void BuildInfo_IsOne_LabelledWithTheVersionAndRuntime_InPrometheusAsVaultGatehouseBuildInfo()
    {
        var series = Assert.Single(_collector.Collect().Instruments.Single(i => i.Name == "vault.gatehouse.build_info").Series);
        Assert.Equal(1, series.Value);
        Assert.Equal(ProductInfo.Version, series.Labels.Single(l => l.Key == "version").Value);
        Assert.StartsWith(".NET ", series.Labels.Single(l => l.Key == "runtime").Value, StringComparison.Ordinal);

        string text = PrometheusWriter.Write(_collector.Collect(), MetricsTestHarness.Options());
        Assert.Matches($"\nvault_gatehouse_build_info{{runtime=\".NET [^\"]+\",version=\"{Regex.Escape(ProductInfo.Version)}\"}} 1\n", text);
    }
}
