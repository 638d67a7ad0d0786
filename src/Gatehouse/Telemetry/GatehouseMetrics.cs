using System.Diagnostics.Metrics;

namespace Gatehouse.Telemetry;

/// <summary>
/// Every Gatehouse instrument, declared once. Call sites call methods; they never build names. Each counter also keeps
/// a running total so the metrics endpoint can report it without a listener (issue 7 replaces that with the real
/// in-memory sink and Prometheus output).
/// </summary>
internal sealed class GatehouseMetrics
{
    public const string MeterName = "Gatehouse";

    private readonly Counter<long> _proxySuccess;
    private readonly Counter<long> _proxyClientError;
    private readonly Counter<long> _proxyError;
    private readonly Counter<long> _cacheMiss;
    private readonly Counter<long> _upstreamRetry;

    private long _proxySuccessTotal;
    private long _proxyClientErrorTotal;
    private long _proxyErrorTotal;
    private long _cacheMissTotal;
    private long _upstreamRetryTotal;

    public GatehouseMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _proxySuccess = meter.CreateCounter<long>("vault.agent.proxy.success", description: "Proxied requests answered with a status below 400.");
        _proxyClientError = meter.CreateCounter<long>("vault.agent.proxy.client_error", description: "Proxied requests Vault answered with an error status (passed through).");
        _proxyError = meter.CreateCounter<long>("vault.agent.proxy.error", description: "Proxied requests Gatehouse could not complete (502, 503, 504, ...).");
        _cacheMiss = meter.CreateCounter<long>("vault.agent.cache.miss", description: "Successful answers not served from the cache (counted even with no cache, as Vault does).");
        _upstreamRetry = meter.CreateCounter<long>("gatehouse.proxy.upstream_retry", description: "Upstream attempts repeated after a retryable failure.");
    }

    public void ProxySuccess()
    {
        _proxySuccess.Add(1);
        Interlocked.Increment(ref _proxySuccessTotal);
        _cacheMiss.Add(1);
        Interlocked.Increment(ref _cacheMissTotal);
    }

    public void ProxyClientError()
    {
        _proxyClientError.Add(1);
        Interlocked.Increment(ref _proxyClientErrorTotal);
    }

    public void ProxyError()
    {
        _proxyError.Add(1);
        Interlocked.Increment(ref _proxyErrorTotal);
    }

    public void UpstreamRetry()
    {
        _upstreamRetry.Add(1);
        Interlocked.Increment(ref _upstreamRetryTotal);
    }

    /// <summary>The counters' running totals, by instrument name.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> CounterTotals() =>
    [
        new("vault.agent.proxy.success", Interlocked.Read(ref _proxySuccessTotal)),
        new("vault.agent.proxy.client_error", Interlocked.Read(ref _proxyClientErrorTotal)),
        new("vault.agent.proxy.error", Interlocked.Read(ref _proxyErrorTotal)),
        new("vault.agent.cache.miss", Interlocked.Read(ref _cacheMissTotal)),
        new("gatehouse.proxy.upstream_retry", Interlocked.Read(ref _upstreamRetryTotal)),
    ];
}
