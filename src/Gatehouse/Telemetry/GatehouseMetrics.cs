using System.Diagnostics.Metrics;

namespace Gatehouse.Telemetry;

/// <summary>
/// The "Gatehouse" meter and every instrument it publishes, declared once. Call sites call the methods here and never
/// build instrument names. Names follow Vault's (<c>vault.agent.auth.success</c>, <c>vault.agent.proxy.success</c>, …)
/// so dashboards carry over. Each counter also keeps a running total so the metrics endpoint can report it without a
/// listener (issue 7 replaces that with the real in-memory sink and Prometheus output).
/// </summary>
internal sealed class GatehouseMetrics : IDisposable
{
    public const string MeterName = "Gatehouse";

    private readonly Meter _meter;
    private readonly TotalledCounter _agentAuthSuccess;
    private readonly TotalledCounter _agentAuthFailure;
    private readonly TotalledCounter _proxyAuthSuccess;
    private readonly TotalledCounter _proxyAuthFailure;
    private readonly TotalledCounter _sinkWriteFailure;
    private readonly TotalledCounter _proxySuccess;
    private readonly TotalledCounter _proxyClientError;
    private readonly TotalledCounter _proxyError;
    private readonly TotalledCounter _cacheMiss;
    private readonly TotalledCounter _upstreamRetry;
    private readonly TotalledCounter[] _all;

    public GatehouseMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);

        // Vault Agent and Vault Proxy name the same auth events differently; Gatehouse stands in for both, so it
        // records both twins and lets the dashboard pick.
        _agentAuthSuccess = new(_meter, "vault.agent.auth.success", "Successful auto-auth logins and renewals.");
        _agentAuthFailure = new(_meter, "vault.agent.auth.failure", "Failed auto-auth steps (login, lookup, renewal).");
        _proxyAuthSuccess = new(_meter, "vault.proxy.auth.success", "Successful auto-auth logins and renewals.");
        _proxyAuthFailure = new(_meter, "vault.proxy.auth.failure", "Failed auto-auth steps (login, lookup, renewal).");
        _sinkWriteFailure = new(_meter, "gatehouse.sink.write.failure", "Failed token sink writes (each is retried).");

        // Vault Proxy, too, records the proxy counters under vault.agent.* (the docs' vault.proxy.proxy.* is not what it emits).
        _proxySuccess = new(_meter, "vault.agent.proxy.success", "Proxied requests answered with a status below 400.");
        _proxyClientError = new(_meter, "vault.agent.proxy.client_error", "Proxied requests Vault answered with an error status (passed through).");
        _proxyError = new(_meter, "vault.agent.proxy.error", "Proxied requests Gatehouse could not complete (502, 503, 504, ...).");
        _cacheMiss = new(_meter, "vault.agent.cache.miss", "Successful answers not served from the cache (counted even with no cache, as Vault does).");
        _upstreamRetry = new(_meter, "gatehouse.proxy.upstream_retry", "Upstream attempts repeated after a retryable failure.");

        _all = [_agentAuthSuccess, _agentAuthFailure, _proxyAuthSuccess, _proxyAuthFailure, _sinkWriteFailure,
            _proxySuccess, _proxyClientError, _proxyError, _cacheMiss, _upstreamRetry];
    }

    /// <summary>A login or a renewal of the auto-auth token succeeded.</summary>
    public void AuthSucceeded()
    {
        _agentAuthSuccess.Add();
        _proxyAuthSuccess.Add();
    }

    /// <summary>An auto-auth step failed (login, lookup, unwrap, renewal).</summary>
    public void AuthFailed()
    {
        _agentAuthFailure.Add();
        _proxyAuthFailure.Add();
    }

    /// <summary>A sink failed to write a token; it will retry.</summary>
    public void SinkWriteFailed() => _sinkWriteFailure.Add();

    /// <summary>A proxied request was answered below 400 (also a cache miss: there is no hit without a cache).</summary>
    public void ProxySuccess()
    {
        _proxySuccess.Add();
        _cacheMiss.Add();
    }

    /// <summary>Vault answered a proxied request with an error status, passed through.</summary>
    public void ProxyClientError() => _proxyClientError.Add();

    /// <summary>Gatehouse could not complete a proxied request.</summary>
    public void ProxyError() => _proxyError.Add();

    /// <summary>A proxied request is being sent to Vault again.</summary>
    public void UpstreamRetry() => _upstreamRetry.Add();

    /// <summary>The counters' running totals, by instrument name.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> CounterTotals() => [.. _all.Select(c => new KeyValuePair<string, long>(c.Name, c.Total))];

    public void Dispose() => _meter.Dispose();

    private sealed class TotalledCounter
    {
        private readonly Counter<long> _counter;
        private long _total;

        public TotalledCounter(Meter meter, string name, string description)
        {
            Name = name;
            _counter = meter.CreateCounter<long>(name, description: description);
        }

        public string Name { get; }

        public long Total => Interlocked.Read(ref _total);

        public void Add()
        {
            _counter.Add(1);
            Interlocked.Increment(ref _total);
        }
    }
}
