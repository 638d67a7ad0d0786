using System.Diagnostics.Metrics;

namespace Gatehouse.Cache;

/// <summary>
/// The lease cache's instruments, on the shared "Gatehouse" meter. They live here until Telemetry/GatehouseMetrics
/// absorbs them (the integrator moves them; call sites keep calling these methods).
/// </summary>
internal sealed class CacheMetrics
{
    public const string MeterName = "Gatehouse";

    private readonly Counter<long> _hit;
    private readonly Counter<long> _miss;
    private readonly Counter<long> _renewals;
    private readonly Counter<long> _evictions;
    private readonly Counter<long> _inFlightWaits;
    private readonly Counter<long> _notStoredFull;
    private Func<long>? _entries;
    private Func<long>? _bytes;

    public CacheMetrics(IMeterFactory? meterFactory = null)
    {
        var meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _hit = meter.CreateCounter<long>("vault.agent.cache.hit", description: "Requests answered from the lease cache.");
        _miss = meter.CreateCounter<long>("vault.agent.cache.miss", description: "Successful requests the lease cache forwarded to Vault.");
        _renewals = meter.CreateCounter<long>("gatehouse.cache.renewals", description: "Background renewals of cached tokens and leases, by outcome (ok, failed, refused).");
        _evictions = meter.CreateCounter<long>("gatehouse.cache.evictions", description: "Entries that left the cache, by reason.");
        _inFlightWaits = meter.CreateCounter<long>("gatehouse.cache.inflight_waits", description: "Requests that waited for an identical request already on its way to Vault.");
        _notStoredFull = meter.CreateCounter<long>("gatehouse.cache.not_stored_full", description: "Cacheable answers served but not stored because max_entries or max_bytes was reached.");
        meter.CreateObservableGauge("gatehouse.cache.entries", () => _entries?.Invoke() ?? 0, description: "Entries in the lease cache.");
        meter.CreateObservableGauge("gatehouse.cache.bytes", () => _bytes?.Invoke() ?? 0, unit: "By", description: "Response bytes held by the lease cache.");
    }

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    private long _hits;
    private long _misses;

    public void Observe(CacheIndex index)
    {
        _entries = () => index.Count;
        _bytes = () => index.Bytes;
    }

    public void Hit()
    {
        _hit.Add(1);
        Interlocked.Increment(ref _hits);
    }

    public void Miss()
    {
        _miss.Add(1);
        Interlocked.Increment(ref _misses);
    }

    public void Renewal(RenewalOutcome outcome) =>
        _renewals.Add(1, new KeyValuePair<string, object?>("outcome", outcome switch
        {
            RenewalOutcome.Renewed => "ok",
            RenewalOutcome.Refused => "refused",
            _ => "failed",
        }));

    public void Eviction(EvictionReason reason) => _evictions.Add(1, new KeyValuePair<string, object?>("reason", ReasonName(reason)));

    public void InFlightWait() => _inFlightWaits.Add(1);

    public void NotStoredFull() => _notStoredFull.Add(1);

    public static string ReasonName(EvictionReason reason) => reason switch
    {
        EvictionReason.Revoked => "revoked",
        EvictionReason.ParentGone => "parent_gone",
        EvictionReason.Cleared => "cleared",
        EvictionReason.RenewalRefused => "renewal_refused",
        EvictionReason.Expired => "expired",
        _ => "max_ttl",
    };
}
