using System.Diagnostics.Metrics;
using System.Globalization;

namespace Gatehouse.Telemetry;

/// <summary>
/// The "Gatehouse" meter and every instrument it publishes, declared once. Call sites call the methods here and never
/// build instrument names or labels. Vault's names (<c>vault.agent.auth.success</c>, <c>vault.agent.proxy.success</c>,
/// …) keep working so dashboards carry over; ours live under <c>vault.gatehouse.*</c> so <c>metrics_prefix</c> applies
/// to them too. Every label comes from a small fixed set, and the tag arrays are built once: a proxied request records
/// without allocating.
/// </summary>
internal sealed class GatehouseMetrics : IDisposable
{
    public const string MeterName = "Gatehouse";

    /// <summary>Listener indexes above this share one label value ("other"): the label set stays bounded.</summary>
    public const int MaxListenerLabels = 32;

    /// <summary>Upstream latency buckets in seconds (1 ms to 10 s).</summary>
    public static readonly IReadOnlyList<double> UpstreamBuckets = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly string[] OutcomeNames = ["success", "client_error", "error"];

    private readonly Meter _meter;

    // Vault's names.
    private readonly Counter<long> _agentAuthSuccess;
    private readonly Counter<long> _agentAuthFailure;
    private readonly Counter<long> _proxyAuthSuccess;
    private readonly Counter<long> _proxyAuthFailure;
    private readonly Counter<long> _proxySuccess;
    private readonly Counter<long> _proxyClientError;
    private readonly Counter<long> _proxyError;
    private readonly Counter<long> _cacheHit;
    private readonly Counter<long> _cacheMiss;

    // Ours.
    private readonly Counter<long> _requests;
    private readonly UpDownCounter<long> _inFlight;
    private readonly Histogram<double> _upstreamDuration;
    private readonly Counter<long> _upstreamRetries;
    private readonly Counter<long> _upstreamShed;
    private readonly Counter<long> _authRenewals;
    private readonly Counter<long> _authRelogins;
    private readonly Counter<long> _sinkWriteFailures;
    private readonly Counter<long> _cacheEvictions;
    private readonly Counter<long> _cacheRenewals;
    private readonly Counter<long> _cacheInFlightWaits;
    private readonly Counter<long> _cacheNotStoredFull;
    private readonly Counter<long> _staticRevalidations;
    private readonly Counter<long> _staticCapabilityChecks;
    private readonly Counter<long> _sharedOperations;
    private static readonly KeyValuePair<string, object?> LeaseKind = new("kind", "lease");
    private static readonly KeyValuePair<string, object?> StaticKind = new("kind", "static");

    private readonly KeyValuePair<string, object?>[][] _listenerTags;
    private readonly KeyValuePair<string, object?>[][][] _requestTags;
    private readonly KeyValuePair<string, object?>[][] _outcomeTags;
    private readonly IReadOnlyList<string?> _listenerLabels;
    private readonly KeyValuePair<string, object?>[] _renewalOk = [new("result", "ok")];
    private readonly KeyValuePair<string, object?>[] _renewalFailed = [new("result", "failed")];

    private Func<double?>? _tokenTtlSeconds;
    private Func<long>? _cacheEntries;
    private Func<long>? _cacheBytes;
    private Func<long>? _cacheMaxEntries;
    private Func<long>? _cacheMaxBytes;
    private VaultReachability? _reachability;
    private Func<long>? _upstreamQueued;
    private Func<long>? _upstreamActive;
    private IReadOnlyList<PushSink> _pushSinks = [];
    private Func<long>? _pushQueueDropped;
    private Func<bool>? _sharedUp;

    /// <param name="listenerLabels">
    /// The <c>listener</c> label value of each listener, by index: its address (<c>127.0.0.1:8100</c>, or the socket
    /// path); null for a listener that proxies nothing (metrics_only). Listeners past the list (or null) are labelled by
    /// index, past <see cref="MaxListenerLabels"/> "other". Each named listener's error and in-flight series start at zero.
    /// </param>
    public GatehouseMetrics(IMeterFactory? meterFactory = null, IReadOnlyList<string?>? listenerLabels = null)
    {
        _meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        Scope = meterFactory;

        // Vault Agent and Vault Proxy name the same auth events differently; Gatehouse stands in for both, so it
        // records both twins and lets the dashboard pick.
        _agentAuthSuccess = _meter.CreateCounter<long>("vault.agent.auth.success", description: "Successful auto-auth logins and renewals.");
        _agentAuthFailure = _meter.CreateCounter<long>("vault.agent.auth.failure", description: "Failed auto-auth steps (login, lookup, renewal).");
        _proxyAuthSuccess = _meter.CreateCounter<long>("vault.proxy.auth.success", description: "Successful auto-auth logins and renewals.");
        _proxyAuthFailure = _meter.CreateCounter<long>("vault.proxy.auth.failure", description: "Failed auto-auth steps (login, lookup, renewal).");

        // Vault Proxy, too, records the proxy and cache counters under vault.agent.* (the docs' vault.proxy.* is not what it emits).
        _proxySuccess = _meter.CreateCounter<long>("vault.agent.proxy.success", description: "Proxied requests answered with a status below 400.");
        _proxyClientError = _meter.CreateCounter<long>("vault.agent.proxy.client_error", description: "Proxied requests Vault answered with an error status (passed through).");
        _proxyError = _meter.CreateCounter<long>("vault.agent.proxy.error", description: "Proxied requests Gatehouse could not complete (502, 503, 504, ...).");
        _cacheHit = _meter.CreateCounter<long>("vault.agent.cache.hit", description: "Proxied requests answered from the lease cache.");
        _cacheMiss = _meter.CreateCounter<long>("vault.agent.cache.miss", description: "Successful answers not served from the cache (counted even with no cache, as Vault does).");

        _requests = _meter.CreateCounter<long>("vault.gatehouse.proxy.requests", "{request}", "Proxied requests by listener and outcome.");
        _inFlight = _meter.CreateUpDownCounter<long>("vault.gatehouse.proxy.in_flight", "{request}", "Proxied requests being answered, by listener.");
        _upstreamDuration = _meter.CreateHistogram<double>(
            "vault.gatehouse.upstream.duration", "s", "Seconds from sending a request to Vault to its response headers.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = UpstreamBuckets });
        _upstreamRetries = _meter.CreateCounter<long>("vault.gatehouse.proxy.upstream_retries", "{attempt}", "Upstream attempts repeated after a retryable failure.");
        _meter.CreateObservableGauge("vault.gatehouse.upstream.queued", ObserveUpstreamQueued, "{request}", "Proxied requests waiting for a turn to be sent to Vault (api_proxy.max_upstream_requests are with Vault).");
        _meter.CreateObservableGauge("vault.gatehouse.upstream.active", ObserveUpstreamActive, "{request}", "Proxied requests with Vault now (at most api_proxy.max_upstream_requests).");
        _upstreamShed = _meter.CreateCounter<long>("vault.gatehouse.upstream.shed", "{request}", "Proxied requests answered 503 after waiting api_proxy.upstream_queue_timeout for a turn; never sent to Vault.");
        _meter.CreateObservableGauge("vault.gatehouse.auth.token_ttl", ObserveTokenTtl, "s", "Seconds until the auto-auth token expires.");
        _authRenewals = _meter.CreateCounter<long>("vault.gatehouse.auth.renewals", "{renewal}", "Renewals of the auto-auth token, by result.");
        _authRelogins = _meter.CreateCounter<long>("vault.gatehouse.auth.relogins", "{login}", "Auto-auth logins after the first.");
        _sinkWriteFailures = _meter.CreateCounter<long>("vault.gatehouse.sink.write_failures", "{write}", "Failed token sink writes (each is retried).");
        _meter.CreateObservableGauge("vault.gatehouse.cache.entries", ObserveCacheEntries, "{entry}", "Entries in the lease cache.");
        _meter.CreateObservableGauge("vault.gatehouse.cache.bytes", ObserveCacheBytes, "By", "Response bytes held by the lease cache.");
        _meter.CreateObservableGauge("vault.gatehouse.cache.max_entries", () => Observe(_cacheMaxEntries), "{entry}", "The cache's max_entries bound.");
        _meter.CreateObservableGauge("vault.gatehouse.cache.max_bytes", () => Observe(_cacheMaxBytes), "By", "The cache's max_bytes bound.");
        _meter.CreateObservableGauge("vault.gatehouse.upstream.reachable", ObserveReachable, "{bool}", "1 while Vault answers; 0 from a failure to reach it (connect error, timeout) until it answers again.");
        _meter.CreateObservableGauge("vault.gatehouse.upstream.unreachable_duration", ObserveUnreachableFor, "s", "Seconds since Vault could first not be reached, or 0 while it answers.");
        _cacheEvictions = _meter.CreateCounter<long>("vault.gatehouse.cache.evictions", "{entry}", "Entries that left the lease cache, by reason.");
        _cacheRenewals = _meter.CreateCounter<long>("vault.gatehouse.cache.renewals", "{renewal}", "Background renewals of cached tokens and leases, by result (ok, failed, refused).");
        _cacheInFlightWaits = _meter.CreateCounter<long>("vault.gatehouse.cache.inflight_waits", "{request}", "Requests that waited for an identical request already on its way to Vault.");
        _cacheNotStoredFull = _meter.CreateCounter<long>("vault.gatehouse.cache.not_stored_full", "{response}", "Cacheable answers served but not stored because max_entries or max_bytes was reached.");
        _meter.CreateObservableCounter("vault.gatehouse.metrics.push_failures", () => ObservePush(static s => s.Failures), "{send}", "Failed sends to a statsd, statsite or dogstatsd sink, by sink.");
        _meter.CreateObservableCounter("vault.gatehouse.metrics.push_dropped", () => ObservePush(static s => s.Dropped), "{packet}", "Packets not sent to a push sink (queue full, or waiting to reconnect), by sink.");
        _meter.CreateObservableCounter("vault.gatehouse.metrics.push_queue_dropped", ObservePushQueueDropped, "{measurement}", "Measurements not sent to the push sinks because the queue between recording and the flush was full.");
        _meter.CreateObservableGauge(
            "vault.gatehouse.build_info", () => BuildInfo, "{info}", "Always 1; the labels say which Gatehouse this is (version, .NET runtime).");
        _staticRevalidations = _meter.CreateCounter<long>("vault.gatehouse.cache.static.revalidations", "{entry}", "Static-secret entries revalidated against Vault, by result (unchanged, refreshed, evicted, unavailable).");
        _staticCapabilityChecks = _meter.CreateCounter<long>("vault.gatehouse.cache.static.capability_checks", "{path}", "Static-secret read grants re-checked with sys/capabilities-self, by result (kept, revoked, invalid, expired, unavailable).");
        _meter.CreateObservableGauge("vault.gatehouse.shared.up", ObserveSharedUp, "{bool}", "1 while the shared store (cache.shared, Redis) answers; 0 from a failed connection or operation until it answers again. Absent without cache.shared.");
        _sharedOperations = _meter.CreateCounter<long>("vault.gatehouse.shared.operations", "{operation}", "Operations on the shared store (Redis), by result (ok, failed, timeout, down).");

        _listenerTags = new KeyValuePair<string, object?>[MaxListenerLabels + 1][];
        _requestTags = new KeyValuePair<string, object?>[MaxListenerLabels + 1][][];
        for (int i = 0; i <= MaxListenerLabels; i++)
        {
            string name = i >= MaxListenerLabels ? "other"
                : listenerLabels is not null && i < listenerLabels.Count && listenerLabels[i] is { } label ? label
                : i.ToString(CultureInfo.InvariantCulture);
            _listenerTags[i] = [new("listener", name)];
            _requestTags[i] = [.. OutcomeNames.Select(o => new KeyValuePair<string, object?>[] { new("listener", name), new("outcome", o) })];
        }

        _outcomeTags = [.. OutcomeNames.Select(o => new KeyValuePair<string, object?>[] { new("outcome", o) })];
        _listenerLabels = listenerLabels ?? [];
    }

    /// <summary>
    /// Records zero on every failure series (and each proxying listener's error and in-flight series), so that they
    /// exist from the start for rate() and alerts. Call it once a collector listens: a measurement nobody listens to
    /// is lost. A zero only creates the series: no interval sample in the JSON document, nothing pushed.
    /// </summary>
    public void StartFailureSeriesAtZero()
    {
        var listenerLabels = _listenerLabels;
        _agentAuthFailure.Add(0);
        _proxyAuthFailure.Add(0);
        _proxyClientError.Add(0);
        _proxyError.Add(0);
        _authRenewals.Add(0, _renewalFailed);
        _authRelogins.Add(0);
        _sinkWriteFailures.Add(0);
        _upstreamShed.Add(0);
        _upstreamRetries.Add(0);
        _cacheNotStoredFull.Add(0);
        for (int i = 0; i < Math.Min(listenerLabels.Count, MaxListenerLabels); i++)
        {
            if (listenerLabels[i] is null)
            {
                continue;
            }

            _requests.Add(0, _requestTags[i][(int)ProxyOutcomeKind.Error]);
            _inFlight.Add(0, _listenerTags[i]);
        }
    }

    /// <summary>The meter factory the instruments came from (null: a meter of their own); the collector listens to this scope only.</summary>
    public object? Scope { get; }

    // ---- Auto-auth ----

    /// <summary>A login or a renewal of the auto-auth token succeeded.</summary>
    public void AuthSucceeded()
    {
        _agentAuthSuccess.Add(1);
        _proxyAuthSuccess.Add(1);
    }

    /// <summary>An auto-auth step failed (login, lookup, unwrap, renewal).</summary>
    public void AuthFailed()
    {
        _agentAuthFailure.Add(1);
        _proxyAuthFailure.Add(1);
    }

    /// <summary>A renew-self of the auto-auth token returned.</summary>
    public void AuthRenewal(bool ok) => _authRenewals.Add(1, ok ? _renewalOk : _renewalFailed);

    /// <summary>Auto-auth logged in again (not its first login).</summary>
    public void AuthRelogin() => _authRelogins.Add(1);

    /// <summary>Where <c>vault.gatehouse.auth.token_ttl</c> reads the seconds left (null: no token, or no TTL).</summary>
    public void ObserveTokenTtl(Func<double?> secondsLeft) => _tokenTtlSeconds = secondsLeft;

    /// <summary>A sink failed to write a token; it will retry.</summary>
    public void SinkWriteFailed() => _sinkWriteFailures.Add(1);

    // ---- API proxy ----

    /// <summary>A proxied request started on <paramref name="listener"/>; pair with <see cref="RequestCompleted"/>.</summary>
    public void RequestStarted(int listener) => _inFlight.Add(1, _listenerTags[ListenerSlot(listener)]);

    /// <summary>
    /// A proxied request was answered: Vault's counters (success → also cache hit or miss; client_error; error) and
    /// ours by listener. Each request is counted exactly once, here.
    /// </summary>
    /// <param name="cacheKind">The cache that answered (<c>lease</c> or <c>static</c>, the hit counter's <c>kind</c> label), or null for a miss.</param>
    public void RequestCompleted(int listener, ProxyOutcomeKind outcome, string? cacheKind)
    {
        int slot = ListenerSlot(listener);
        _inFlight.Add(-1, _listenerTags[slot]);
        _requests.Add(1, _requestTags[slot][(int)outcome]);
        switch (outcome)
        {
            case ProxyOutcomeKind.Success:
                _proxySuccess.Add(1);
                if (cacheKind is null)
                {
                    _cacheMiss.Add(1);
                }
                else
                {
                    _cacheHit.Add(1, cacheKind == "static" ? StaticKind : LeaseKind);
                }

                break;
            case ProxyOutcomeKind.ClientError:
                _proxyClientError.Add(1);
                break;
            default:
                _proxyError.Add(1);
                break;
        }
    }

    /// <summary>One request to Vault got its response headers (or failed) after <paramref name="elapsed"/>.</summary>
    public void UpstreamResponded(TimeSpan elapsed, ProxyOutcomeKind outcome) =>
        _upstreamDuration.Record(elapsed.TotalSeconds, _outcomeTags[(int)outcome]);

    /// <summary>A proxied request is being sent to Vault again.</summary>
    public void UpstreamRetry() => _upstreamRetries.Add(1);

    /// <summary>A proxied request waited its whole queue timeout for a turn and was answered 503 without reaching Vault.</summary>
    public void UpstreamShed() => _upstreamShed.Add(1);

    /// <summary>Where the upstream gauges read their values: requests waiting for a turn, and requests with Vault.</summary>
    public void ObserveUpstream(Func<long> queued, Func<long> active)
    {
        _upstreamQueued = queued;
        _upstreamActive = active;
    }

    // ---- Lease cache ----

    /// <summary>Where the cache gauges read their values.</summary>
    public void ObserveCache(Func<long> entries, Func<long> bytes, long maxEntries, long maxBytes)
    {
        _cacheEntries = entries;
        _cacheBytes = bytes;
        _cacheMaxEntries = () => maxEntries;
        _cacheMaxBytes = () => maxBytes;
    }

    /// <summary>Where the <c>upstream.reachable</c> and <c>upstream.unreachable_duration</c> gauges read Vault's reachability.</summary>
    public void ObserveReachability(VaultReachability reachability) => _reachability = reachability;

    /// <summary>An entry left the cache. <paramref name="reason"/> is one of the cache's fixed reason names.</summary>
    public void CacheEviction(string reason) => _cacheEvictions.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>A background renewal of a cached token or lease ended: ok, failed or refused.</summary>
    public void CacheRenewal(string result) => _cacheRenewals.Add(1, new KeyValuePair<string, object?>("result", result));

    public void CacheInFlightWait() => _cacheInFlightWaits.Add(1);

    public void CacheNotStoredFull() => _cacheNotStoredFull.Add(1);

    /// <summary>One static-secret revalidation pass: entries by result.</summary>
    public void StaticRevalidations(int unchanged, int refreshed, int evicted, int unavailable)
    {
        AddIf(_staticRevalidations, unchanged, "unchanged");
        AddIf(_staticRevalidations, refreshed, "refreshed");
        AddIf(_staticRevalidations, evicted, "evicted");
        AddIf(_staticRevalidations, unavailable, "unavailable");
    }

    /// <summary>One static-secret grant re-checked: kept, revoked, invalid (Vault refused the token), expired or unavailable.</summary>
    public void StaticCapabilityCheck(string result) => _staticCapabilityChecks.Add(1, new KeyValuePair<string, object?>("result", result));

    private static void AddIf(Counter<long> counter, int count, string result)
    {
        if (count > 0)
        {
            counter.Add(count, new KeyValuePair<string, object?>("result", result));
        }
    }

    // ---- Shared store ----

    /// <summary>Where <c>vault.gatehouse.shared.up</c> reads whether the shared store answers.</summary>
    public void ObserveShared(Func<bool> up) => _sharedUp = up;

    /// <summary>One shared-store operation ended: ok, failed, timeout or down (not tried: the store is down).</summary>
    public void SharedOperation(string result) => _sharedOperations.Add(1, new KeyValuePair<string, object?>("result", result));

    // ---- Push sinks ----

    /// <summary>Where <c>vault.gatehouse.metrics.push_*</c> read each sink's failures and drops, and the pusher's queue drops.</summary>
    public void ObservePushSinks(IReadOnlyList<PushSink> sinks, Func<long> queueDropped)
    {
        _pushSinks = sinks;
        _pushQueueDropped = queueDropped;
    }

    public void Dispose() => _meter.Dispose();

    private static int ListenerSlot(int listener) => (uint)listener < MaxListenerLabels ? listener : MaxListenerLabels;

    private IEnumerable<Measurement<double>> ObserveTokenTtl() =>
        _tokenTtlSeconds?.Invoke() is { } seconds ? [new Measurement<double>(Math.Max(0, Math.Floor(seconds)))] : [];

    private IEnumerable<Measurement<long>> ObserveUpstreamQueued() =>
        _upstreamQueued is { } queued ? [new Measurement<long>(queued())] : [];

    private IEnumerable<Measurement<long>> ObserveUpstreamActive() =>
        _upstreamActive is { } active ? [new Measurement<long>(active())] : [];

    private IEnumerable<Measurement<long>> ObserveCacheEntries() =>
        _cacheEntries is { } entries ? [new Measurement<long>(entries())] : [];

    private static readonly Measurement<long> BuildInfo = new(
        1, new KeyValuePair<string, object?>("version", ProductInfo.Version),
        new KeyValuePair<string, object?>("runtime", System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription));

    private static IEnumerable<Measurement<long>> Observe(Func<long>? read) => read is { } value ? [new Measurement<long>(value())] : [];

    private IEnumerable<Measurement<long>> ObserveReachable() =>
        _reachability is { } r ? [new Measurement<long>(r.IsReachable ? 1 : 0)] : [];

    private IEnumerable<Measurement<double>> ObserveUnreachableFor() =>
        _reachability is { } r ? [new Measurement<double>(Math.Floor(r.UnreachableFor.TotalSeconds))] : [];

    private IEnumerable<Measurement<long>> ObserveSharedUp() =>
        _sharedUp is { } up ? [new Measurement<long>(up() ? 1 : 0)] : [];

    private IEnumerable<Measurement<long>> ObservePushQueueDropped() =>
        _pushQueueDropped is { } dropped ? [new Measurement<long>(dropped())] : [];

    private IEnumerable<Measurement<long>> ObservePush(Func<PushSink, long> read) =>
        [.. _pushSinks.Select(s => new Measurement<long>(read(s), new KeyValuePair<string, object?>("sink", s.Name)))];

    private IEnumerable<Measurement<long>> ObserveCacheBytes() =>
        _cacheBytes is { } bytes ? [new Measurement<long>(bytes())] : [];
}

/// <summary>How a proxied request ended, as the metrics label it.</summary>
internal enum ProxyOutcomeKind
{
    /// <summary>Answered below 400 (from Vault or the cache).</summary>
    Success = 0,

    /// <summary>Vault answered 400 or above; passed through.</summary>
    ClientError = 1,

    /// <summary>Gatehouse could not complete the request (unreachable, timeout, internal failure).</summary>
    Error = 2,
}
