using System.Collections.Concurrent;
using Gatehouse.ApiProxy;
using Gatehouse.AutoAuth;
using Gatehouse.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Cache;

/// <summary>
/// The lease cache: an <see cref="IVaultProxier"/> decorator. The request handler does not know it is there.
/// Identical logins and token creations get the same token, leased secrets the same lease; the <see cref="Renewer"/>
/// keeps them alive and revocations seen through the proxy evict them at once.
/// </summary>
internal sealed partial class LeaseCache : IVaultProxier, IStoredAnswers, IAsyncDisposable
{
    /// <summary>
    /// Request bodies larger than this bypass the cache (logins and token creates are a few hundred bytes), chunked
    /// ones included: at most this much is read before the body goes on streaming.
    /// </summary>
    public const long MaxKeyedBody = 1024 * 1024;

    /// <summary>Answers larger than this are not read whole, so not cached (a lease or login answer is a few hundred bytes).</summary>
    public const long MaxCachedAnswer = 1024 * 1024;

    private readonly IVaultProxier _inner;
    private readonly TimeProvider _time;
    private readonly GatehouseMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<CacheKey, InFlight> _inFlight = new();
    private readonly TokenStore? _tokens;

    /// <summary>False with <c>disable_caching_dynamic_secrets</c>: nothing new is stored; revocations still evict.</summary>
    private readonly bool _storeAnswers;
    private HitClock _clock = new(-1, "");

    public LeaseCache(
        IVaultProxier inner, CacheIndex index, Renewer renewer, TimeProvider time, GatehouseMetrics metrics, ILogger logger, TokenStore? tokens = null,
        bool storeAnswers = true)
    {
        _storeAnswers = storeAnswers;
        _inner = inner;
        Index = index;
        Renewer = renewer;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _tokens = tokens;
        metrics.ObserveCache(() => index.Count, () => index.Bytes, index.MaxEntries, index.MaxBytes);
        index.Evicted += OnEvicted;
        renewer.Renewed += OnRenewed;
        if (tokens is not null)
        {
            tokens.Published += RegisterAutoAuthToken;
            tokens.RestoredRefused += OnRestoredRefused;
            if (tokens.Current is { } current)
            {
                RegisterAutoAuthToken(current);
            }
        }
    }

    public CacheIndex Index { get; }

    public Renewer Renewer { get; }

    /// <summary>
    /// Persistence hooks, set by <see cref="Persistence.CachePersistence"/> before the listeners serve when a
    /// <c>persist</c> block is configured (and left null when the store was imported and dropped).
    /// </summary>
    public ICacheStore? Store { get; set; }

    /// <summary>The fleet's shared entries (<c>cache { shared "redis" }</c>), set at registration; null without one.</summary>
    public SharedEntries? Shared { get; set; }

    public async ValueTask<ProxyResult> SendAsync(ProxyRequest request, CancellationToken cancellationToken)
    {
        // Step map: 1. buffer the body (the key needs it); 2. key; 3. hit → replay; 4. an identical request in
        // flight → wait for it, then hit or forward alone; none → register, look again (it may just have left);
        // 5. forward, buffered; 6. revocation → evict; 7. cacheable → store, start renewing; 8. answer (X-Cache: MISS
        // is added by the handler).
        if (!await request.BufferBodyAsync(MaxKeyedBody, evenChunked: true, cancellationToken).ConfigureAwait(false))
        {
            return await _inner.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var cacheRequest = ToCacheRequest(request);
        var key = CacheKey.Compute(cacheRequest);
        if (TryHit(key) is { } hit)
        {
            request.ServedFromCache = true;
            return hit;
        }

        if (Cacheability.IsRenewal(cacheRequest))
        {
            return await ForwardAsync(request, cacheRequest, key, cancellationToken).ConfigureAwait(false);
        }

        var mine = new InFlight();
        var first = _inFlight.GetOrAdd(key, mine);
        if (!ReferenceEquals(first, mine))
        {
            _metrics.CacheInFlightWait();
            await first.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (TryHit(key) is { } waited)
            {
                request.ServedFromCache = true;
                return waited;
            }

            // Not cacheable (or already evicted): this request goes to Vault on its own; writes are never merged.
            return await ForwardAsync(request, cacheRequest, key, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            // An identical request may have stored its answer and left between our lookup and our registration:
            // look again, or a burst of identical logins makes a second upstream login (seen under load).
            if (TryHit(key) is { } stored)
            {
                request.ServedFromCache = true;
                return stored;
            }

            if (Shared is { } shared)
            {
                return await SendSharedAsync(shared, request, cacheRequest, key, cancellationToken).ConfigureAwait(false);
            }

            return await ForwardAsync(request, cacheRequest, key, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _inFlight.TryRemove(new KeyValuePair<CacheKey, InFlight>(key, mine));
            mine.Completion.TrySetResult();
        }
    }

    /// <summary>
    /// The shared cache's part of a miss (this replica is the first with this request): the fleet's copy, when Redis
    /// holds one; else, for a login or token create, one request to Vault for the whole fleet (the in-flight marker:
    /// another replica sending the same request is waited for, bounded by <see cref="SharedEntries.InFlightWait"/>);
    /// else Vault.
    /// </summary>
    private async ValueTask<ProxyResult> SendSharedAsync(SharedEntries shared, ProxyRequest request, CacheRequest cacheRequest, CacheKey key, CancellationToken cancellationToken)
    {
        if (await shared.TryImportAsync(key, cancellationToken).ConfigureAwait(false) && TryHit(key, sharedChecked: true) is { } imported)
        {
            request.ServedFromCache = true;
            return imported;
        }

        if (!IsMergedAcrossFleet(cacheRequest) || !_storeAnswers)
        {
            return await ForwardAsync(request, cacheRequest, key, cancellationToken).ConfigureAwait(false);
        }

        var (claim, wait) = await shared.ClaimInFlightAsync(key, cancellationToken).ConfigureAwait(false);
        if (claim == InFlightClaim.Other)
        {
            _metrics.CacheInFlightWait();
            // The other replica may have finished between our miss and our claim: look once, then wait for its word.
            var current = await shared.TryImportAsync(key, cancellationToken).ConfigureAwait(false);
            if (!current)
            {
                try
                {
                    await wait.WaitAsync(SharedEntries.InFlightWait, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // The other replica did not answer in time: go to Vault ourselves.
                }
                finally
                {
                    shared.ForgetWaiter(key);
                }

                current = await shared.TryImportAsync(key, cancellationToken).ConfigureAwait(false);
            }

            if (TryHit(key, sharedChecked: current) is { } merged)
            {
                request.ServedFromCache = true;
                return merged;
            }

            return await ForwardAsync(request, cacheRequest, key, cancellationToken).ConfigureAwait(false);
        }

        if (claim != InFlightClaim.Mine)
        {
            return await ForwardAsync(request, cacheRequest, key, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            return await ForwardAsync(request, cacheRequest, key, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Stored or not (a failure, an answer that is not cacheable, a client gone): the waiters are told now.
            Index.TryGet(key, out var stored);
            await shared.ReleaseInFlightAsync(key, stored, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Logins and token creates: the requests whose identical copies the fleet sends to Vault once.</summary>
    internal static bool IsMergedAcrossFleet(CacheRequest request)
    {
        if (request.Method is not ("PUT" or "POST"))
        {
            return false;
        }

        var api = CachePaths.ApiPath(request.NormalizedPath, "auth/");
        return api is not null && (api.StartsWith("auth/token/create", StringComparison.Ordinal)
            || (api.EndsWith("/login", StringComparison.Ordinal) || api.Contains("/login/", StringComparison.Ordinal)));
    }

    /// <summary>
    /// A hit, or null; nothing is forwarded and nothing waits for an identical request in flight. The request handler
    /// asks this with the auto-auth token restored from the persistent cache, which must not reach Vault unconfirmed.
    /// </summary>
    public async ValueTask<ProxyResult?> TryAnswerAsync(ProxyRequest request, CancellationToken cancellationToken)
    {
        if (!await request.BufferBodyAsync(MaxKeyedBody, evenChunked: true, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        if (TryHit(CacheKey.Compute(ToCacheRequest(request))) is not { } hit)
        {
            return null;
        }

        request.ServedFromCache = true;
        return hit;
    }

    /// <summary>Looks a request up without forwarding (benchmarks, tests).</summary>
    /// <param name="sharedChecked">The shared copy was just taken from, or checked against, Redis: serve it as it is.</param>
    internal ProxyResult? TryHit(CacheKey key, bool sharedChecked = false)
    {
        if (!Index.TryGet(key, out var entry) || entry.Response is not { } stored)
        {
            return null;
        }

        if (!sharedChecked && entry.SharedName is not null && Shared is { } shared && shared.NeedsCheck(entry))
        {
            // A shared copy from before the link to Redis dropped, or held while this replica does not hear the
            // fleet: the miss path checks it against Redis first.
            return null;
        }

        var now = _time.GetUtcNow();
        var remaining = entry.Lifetime.RemainingSeconds(now);
        var age = Math.Max(0, (long)Math.Round((now - entry.FetchedAt).TotalSeconds));
        return ProxyResult.Buffered(stored.HitResponse(Clock(now), age, remaining));
    }

    private async ValueTask<ProxyResult> ForwardAsync(ProxyRequest request, CacheRequest cacheRequest, CacheKey key, CancellationToken cancellationToken)
    {
        // Only a JSON answer can hold a lease or a token; anything else (a monitor stream, a large body) streams by.
        request.BufferJsonUpTo = Math.Max(request.BufferJsonUpTo, MaxCachedAnswer);
        request.RewindBody();
        var result = await _inner.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (result.Outcome == ProxyOutcome.Failed || result.StatusCode is < 200 or >= 300)
        {
            return result;
        }

        if (Revocations.Recognise(cacheRequest) is { } revocation)
        {
            var evicted = Revocations.Apply(Index, revocation, cacheRequest);
            Log.Revoked(_logger, revocation.Kind, evicted);
            Shared?.Broadcast(SharedOperation(revocation.Kind), revocation.Value, cacheRequest.IndexNamespace);
            return result;
        }

        if (_storeAnswers && result.Response is { } response)
        {
            TryStore(cacheRequest, key, response);
        }

        return result;
    }

    private void TryStore(CacheRequest request, CacheKey key, BufferedResponse response)
    {
        string? contentType = null;
        var headers = response.Headers;
        for (var i = 0; i < headers.Count; i++)
        {
            if (headers[i].Key.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) && headers[i].Value.Length > 0)
            {
                contentType = headers[i].Value[0];
                break;
            }
        }

        var decision = Cacheability.Decide(request, response.StatusCode, contentType, response.Body.Span, Index.IsManagedToken);
        if (decision.Kind == CacheDecisionKind.PassThrough)
        {
            Log.NotCached(_logger, request.Method, request.Path, decision.Reason);
            return;
        }

        var now = _time.GetUtcNow();
        var isToken = decision.Kind == CacheDecisionKind.Token;
        var entry = new CacheEntry
        {
            Id = key,
            Kind = isToken ? CacheEntryKind.Token : CacheEntryKind.Lease,
            Response = new CachedResponse(response.StatusCode, response.Headers, response.Body.ToArray(), authTtl: isToken),
            Namespace = request.IndexNamespace,
            RequestPath = request.Path,
            RequestMethod = request.Method,
            RequestToken = request.Token,
            Token = isToken ? decision.ClientToken : null,
            TokenAccessor = isToken ? decision.Accessor : null,
            TokenParent = isToken ? decision.Parent : null,
            Lease = isToken ? null : decision.LeaseId,
            LeaseToken = isToken ? null : request.Token,
            FetchedAt = now,
            OriginalTtlSeconds = decision.TtlSeconds,
            Lifetime = new CacheLifetime(now, decision.TtlSeconds),
        };
        Add(entry);
    }

    private static string SharedOperation(RevocationKind kind) => kind switch
    {
        RevocationKind.Token => "token",
        RevocationKind.Accessor => "accessor",
        RevocationKind.Orphan => "orphan",
        RevocationKind.Lease => "lease",
        _ => "lease_prefix",
    };

    /// <summary>
    /// cache-clear <c>all</c>: every entry leaves, the persistent store forgets them, and the current auto-auth token
    /// stays managed (see <see cref="CacheClearEndpoint"/>). Returns the number evicted.
    /// </summary>
    internal int ClearAll()
    {
        var evicted = Index.Clear(EvictionReason.Cleared);
        Store?.Clear();
        if (_tokens?.Current is { } current)
        {
            RegisterAutoAuthToken(current);
        }

        return evicted;
    }

    /// <summary>Adds an entry (new or restored) and starts renewing it. False when full or already present.</summary>
    internal bool Add(CacheEntry entry, bool persist = true)
    {
        var added = Index.TryAdd(entry);
        switch (added)
        {
            case CacheAddResult.Added:
                Log.Cached(_logger, entry.ToString());
                Renewer.Start(entry);
                if (persist && entry.Persists)
                {
                    Store?.Save(entry);
                }

                if (entry.SharedName is null)
                {
                    Shared?.Publish(entry);
                }

                return true;
            case CacheAddResult.Full:
                _metrics.CacheNotStoredFull();
                Log.Full(_logger, Index.Count, Index.Bytes);
                return false;
            default:
                return false;
        }
    }

    /// <summary>
    /// The auto-auth token becomes a managed token (leases made with it are cacheable). Auto-auth renews it, so no
    /// renewal is scheduled. A token already registered is left alone.
    /// </summary>
    public void RegisterAutoAuthToken(AutoAuthToken token)
    {
        if (Index.IsManagedToken(token.Token))
        {
            return;
        }

        var now = _time.GetUtcNow();
        var entry = new CacheEntry
        {
            Id = CacheKey.Random(),
            Kind = CacheEntryKind.AutoAuthToken,
            Namespace = "root/",
            RequestPath = "auto-auth",
            Token = token.Token,
            TokenAccessor = token.Accessor,
            FetchedAt = now,
            OriginalTtlSeconds = (long)(token.Ttl?.TotalSeconds ?? 0),
            Lifetime = new CacheLifetime(now, (long)(token.Ttl?.TotalSeconds ?? 0)),
        };
        if (Index.TryAdd(entry) == CacheAddResult.Added)
        {
            Store?.Save(entry);
        }
    }

    /// <summary>
    /// Vault refused the auto-auth token restored from the persistent cache (revoked, expired): it and everything
    /// cached under it leave, as for any token Vault no longer knows (the subtree rule).
    /// </summary>
    private void OnRestoredRefused(AutoAuthToken token)
    {
        var evicted = Index.EvictToken(token.Token, EvictionReason.Revoked);
        Log.RestoredRefused(_logger, token.Accessor ?? "(none)", evicted);
    }

    /// <summary>The <c>reason</c> label of <c>vault.gatehouse.cache.evictions</c>: a fixed set.</summary>
    public static string ReasonName(EvictionReason reason) => reason switch
    {
        EvictionReason.Revoked => "revoked",
        EvictionReason.ParentGone => "parent_gone",
        EvictionReason.Cleared => "cleared",
        EvictionReason.RenewalRefused => "renewal_refused",
        EvictionReason.Expired => "expired",
        _ => "max_ttl",
    };

    private void OnEvicted(CacheEntry entry, EvictionReason reason)
    {
        _metrics.CacheEviction(ReasonName(reason));
        if (entry.Persists)
        {
            Store?.Delete(entry);
        }

        Shared?.OnEvicted(entry, reason);
    }

    /// <summary>The new last-renewed time and TTL go to the store, so a restart restores the entry's true remaining TTL.</summary>
    private void OnRenewed(CacheEntry entry) => Store?.Save(entry);

    internal static CacheRequest ToCacheRequest(ProxyRequest request)
    {
        var http = request.Context.Request;
        List<KeyValuePair<string, string>>? headers = null;
        string? ns = null;
        foreach (var (name, values) in http.Headers)
        {
            if (!name.StartsWith(VaultHeaders.Prefix, StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (name.Equals(VaultHeaders.Namespace, StringComparison.OrdinalIgnoreCase))
            {
                ns = values.ToString();
            }
            else if (CacheKey.IsKeyHeader(name))
            {
                (headers ??= []).Add(new(name, values.ToString()));
            }
        }

        return new CacheRequest(http.Method, http.PathBase.Add(http.Path).Value ?? "/", http.QueryString.Value, ns, request.Token, request.Body ?? default, headers);
    }

    /// <summary>The current second's <see cref="HitClock"/>: made once a second, shared by all hits in it.</summary>
    internal HitClock Clock(DateTimeOffset now)
    {
        var cached = Volatile.Read(ref _clock);
        if (cached.Second == now.ToUnixTimeSeconds())
        {
            return cached;
        }

        var clock = HitClock.At(now);
        Volatile.Write(ref _clock, clock);
        return clock;
    }

    public async ValueTask DisposeAsync()
    {
        if (_tokens is not null)
        {
            _tokens.Published -= RegisterAutoAuthToken;
            _tokens.RestoredRefused -= OnRestoredRefused;
        }

        Shared?.Dispose();
        await Renewer.DisposeAsync().ConfigureAwait(false);
        Store?.Dispose();
    }

    private sealed class InFlight
    {
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.LeaseCacheCached, LogLevel.Debug, "Cached {Entry}")]
        public static partial void Cached(ILogger logger, string entry);

        [LoggerMessage(LogEvents.LeaseCacheNotCached, LogLevel.Debug, "Not cached: {Method} {Path} ({Reason})")]
        public static partial void NotCached(ILogger logger, string method, string path, string reason);

        [LoggerMessage(LogEvents.LeaseCacheRevoked, LogLevel.Debug, "Revocation ({Kind}) seen through the proxy; evicted {Count} entries")]
        public static partial void Revoked(ILogger logger, RevocationKind kind, int count);

        [LoggerMessage(LogEvents.LeaseCacheRestoredRefused, LogLevel.Information, "Vault refused the auto-auth token (accessor {Accessor}) restored from the persistent cache; evicted {Count} entries (the token and what was cached under it)")]
        public static partial void RestoredRefused(ILogger logger, string accessor, int count);

        [LoggerMessage(LogEvents.LeaseCacheFull, LogLevel.Warning, "The lease cache is full ({Count} entries, {Bytes} bytes); serving without caching. Raise cache.max_entries or cache.max_bytes")]
        public static partial void Full(ILogger logger, int count, long bytes);
    }
}

/// <summary>
/// Where the cache writes entries when <c>persist</c> is configured: on store, after each renewal (the new lifetime)
/// and on eviction. Stopping the host disposes it without deleting anything, so the entries survive a restart.
/// </summary>
internal interface ICacheStore : IDisposable
{
    /// <summary>Writes (or rewrites) the entry.</summary>
    void Save(CacheEntry entry);

    void Delete(CacheEntry entry);

    /// <summary>Forgets every entry (cache-clear <c>all</c>).</summary>
    void Clear();
}
