using System.Diagnostics.Metrics;
using Gatehouse.Telemetry;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.Telemetry;

/// <summary>A meter of its own per test (tests run in parallel), a collector listening to it, and a fake clock.</summary>
internal sealed class MetricsTestHarness : IDisposable
{
    public MetricsTestHarness(int maxSeries = MetricsCollector.DefaultMaxSeriesPerInstrument, string? meterName = null)
    {
        MeterName = meterName ?? "Gatehouse.Tests." + Guid.NewGuid().ToString("N");
        Meter = new Meter(MeterName);
        Collector = new MetricsCollector(Time, MeterName, maxSeries);
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 30, 3, 31, 55, TimeSpan.Zero));

    public string MeterName { get; }

    public Meter Meter { get; }

    public MetricsCollector Collector { get; }

    public static MetricsOptions Options(string? prefix = null, string host = "", bool disableHostname = true) => new()
    {
        Prefix = prefix ?? MetricsOptions.DefaultPrefix,
        HostName = host,
        DisableHostname = disableHostname,
        PrometheusRetention = TimeSpan.FromHours(24),
    };

    public void Dispose()
    {
        Collector.Dispose();
        Meter.Dispose();
    }
}
