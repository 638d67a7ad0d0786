using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gatehouse.Cache.Persistence;
using Gatehouse.Shared;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gatehouse.Cache;

/// <summary>How <see cref="SharedEntries.ClaimInFlightAsync"/> ended.</summary>
internal enum InFlightClaim
{
    /// <summary>No shared store now (down, or not a request the fleet merges): go to Vault alone.</summary>
    None,

    /// <summary>This replica holds the fleet's in-flight marker: forward, store, then <see cref="SharedEntries.ReleaseInFlight"/>.</summary>
    Mine,

    /// <summary>Another replica is sending the same request: wait for its answer.</summary>
    Other,
}

/// <summary>
/// The lease cache's entries shared by the fleet through Redis (<c>cache { shared "redis" }</c>). Every lease and token
/// entry this replica stores is written to Redis sealed (<see cref="Sealer"/>, bound to its Redis key) under a name
/// that is an HMAC of its cache key; a local miss looks there before going to Vault. A copy taken from Redis stays in
/// the local index, so a hit is as fast as any local hit: it is kept right by pub/sub (revocations, cache-clears and
/// evictions on any replica are published, sealed, and applied by all) and, after the link to Redis dropped (when
/// messages may have been lost), re-checked against Redis before it is served again. Redis being away never fails a
/// request: every operation is bounded by <c>operation_timeout</c> and the replica goes on with its own cache and
/// Vault; what it could not tell the fleet meanwhile is told when Redis returns.
/// </summary>
/// <remarks>
/// After an outage the order matters: this replica first <b>listens</b> again (a subscription Redis acknowledged), and
/// only then marks every local copy for one re-check (a new generation). A copy re-checked before it listens would
/// otherwise miss a revocation published between that re-check and the subscription. Until it listens (Redis answers
/// but the pub/sub connection is down or refused), every hit on a shared copy is checked against Redis first.
/// <para>Redis layout under the key prefix: <c>e:{name}</c> the sealed entry (clear epoch, cache key, entry);
/// <c>v:{name}</c> its lifetime (<c>since-ms:ttl</c>, rewritten by the replica that renews it); <c>t:</c>, <c>a:</c>,
/// <c>l:{hmac}</c> pointers from a token, accessor or lease id (HMAC-named) to the entry's name; <c>r:{name}</c> the
/// renewal claim of one period; <c>f:{name}</c> an in-flight marker; <c>epoch</c> the cache-clear counter;
/// channel <c>entries</c>. Every key carries the entry's remaining TTL as its expiry.</para>
/// </remarks>
internal sealed partial class SharedEntries : IDisposable
{
    /// <summary>How long a replica waits for another replica's identical login or token create before going to Vault itself.</summary>
    public static readonly TimeSpan InFlightWait = TimeSpan.FromSeconds(5);

    private const int MaxParentDepth = 8;
    private const int MaxPending = 1024;

    // KEYS: e, v, epoch, pointers...; ARGV: sealed, px, epoch, lifetime, name, channel, message.
    private const string WriteScript = """
        local current = tonumber(redis.call('GET', KEYS[3]) or '0')
        if current ~= tonumber(ARGV[3]) then return current end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[2])
        for i = 4, #KEYS do redis.call('SET', KEYS[i], ARGV[5], 'PX', ARGV[2]) end
        redis.call('PUBLISH', ARGV[6], ARGV[7])
        return -1
        """;

    // KEYS: pointers...; ARGV: prefix. Deletes each pointer and the entry it names.
    private const string DeleteByPointerScript = """
        local n = 0
        for i = 1, #KEYS do
          local name = redis.call('GET', KEYS[i])
          if name then n = n + redis.call('DEL', ARGV[1] .. 'e:' .. name, ARGV[1] .. 'v:' .. name) end
          redis.call('DEL', KEYS[i])
        end
        return n
        """;

    private readonly SharedStore _store;
    private readonly LeaseCache _cache;
    private readonly ILogger _logger;
    private readonly string _channel;
    private readonly RedisKey _epochKey;
    private readonly ConcurrentDictionary<string, CacheEntry> _local = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiters = new(StringComparer.Ordinal);

    /// <summary>Background writes still running, by entry name (<see cref="Publish"/>).</summary>
    private readonly ConcurrentDictionary<string, Task<bool>> _writes = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Func<CancellationToken, Task<bool>>> _pending = new();
    private readonly TimeProvider _time;
    private readonly TaskCompletionSource _subscribedOnce = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _listenLock = new();
    private readonly SemaphoreSlim _rejoinGate = new(1, 1);
    private int _generation = 1;
    private int _listening;
    private long _losses;
    private long _lastRejoinTicks = long.MinValue;
    private long _epoch;
    private readonly ConcurrentDictionary<string, byte> _corruptLogged = new(StringComparer.Ordinal);
    private int _pendingLogged;

    [ThreadStatic]
    private static bool t_applyingRemote;

    public SharedEntries(SharedStore store, LeaseCache cache, TimeProvider time, ILogger logger)
    {
        _store = store;
        _cache = cache;
        _time = time;
        _logger = logger;
        _channel = store.Key("entries");
        _epochKey = store.Key("epoch");
        ReplicaId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        store.StateChanged += OnStateChanged;
        store.SubscriptionChanged += OnSubscriptionChanged;
        if (store.IsUp)
        {
            OnStateChanged(true);
        }
    }

    /// <summary>This process's id in messages (random per start): a replica ignores its own.</summary>
    public string ReplicaId { get; }

    /// <summary>The current subscription generation: bumped each time this replica listens to the fleet again.</summary>
    public int Generation => Volatile.Read(ref _generation);

    public bool IsUp => _store.IsUp;

    /// <summary>True while this replica hears the fleet's messages (its subscription is acknowledged and not dropped since).</summary>
    public bool IsListening => Volatile.Read(ref _listening) == 1;

    /// <summary>Completes once this replica first listens to the fleet's channel.</summary>
    public Task Subscribed => _subscribedOnce.Task;

    /// <summary>Raised when this replica starts (true) or stops (false) hearing the fleet's messages (tests wait on it).</summary>
    public event Action<bool>? ListeningChanged;

    /// <summary>Raised each time Redis came back and this replica has told the fleet what it kept meanwhile.</summary>
    public event Action? Rejoined;

    /// <summary>Raised after this replica wrote an entry to Redis (tests wait on it).</summary>
    public event Action<CacheEntry>? Written;

    /// <summary>Raised after this replica first tried to tell the fleet of an invalidation: true when told, false when kept for later (tests wait on it).</summary>
    public event Action<bool>? Told;

    /// <summary>Raised after a message from another replica was applied (tests wait on it): the operation's name.</summary>
    public event Action<string>? RemoteApplied;

    /// <summary>
    /// Run before a revocation or cache-clear made on this replica is published (<see cref="Broadcast"/>), with the
    /// operation's name; false: Redis did not take it, the broadcast waits for Redis to return. The static-secret
    /// cache retires its records here, so no replica can take one after it has applied the clear.
    /// </summary>
    public Func<string, CancellationToken, Task<bool>>? BeforeBroadcast { get; set; }

    /// <summary>
    /// Applies an operation from another replica that the lease cache does not know (the static-secret cache's, whose
    /// names start <c>static_</c>): the operation, its value and namespace. Runs before <see cref="RemoteApplied"/>.
    /// </summary>
    public Action<string, string, string?>? OtherOperation { get; set; }

    /// <summary>
    /// Tells the fleet an operation of another cache (<see cref="OtherOperation"/> applies it on every other replica):
    /// <paramref name="first"/> (Redis changes that must precede the message), then the sealed message, in the
    /// background; kept and told when Redis returns if Redis is away now.
    /// </summary>
    public void Announce(string operation, string value, string? @namespace, Func<CancellationToken, Task<bool>>? first = null)
    {
        var message = SealedMessage(operation, value, @namespace);
        Enqueue(async ct => (first is null || await first(ct).ConfigureAwait(false))
            && (await _store.PublishAsync(_channel, message, ct).ConfigureAwait(false)).Ok);
    }

    /// <summary>
    /// True when a local copy must be checked against Redis before it is served: it predates this replica's latest
    /// return to listening, or this replica does not hear the fleet now while Redis answers (a revocation would be missed).
    /// Not while this replica's own write of it is still on its way: Redis cannot hold it yet, and the check would
    /// evict an answer Vault has just given (under load, a login per hit until the write lands).
    /// </summary>
    public bool NeedsCheck(CacheEntry entry)
    {
        if (entry.SharedName is not { } name || !_store.IsUp)
        {
            return false;
        }

        var listening = IsListening;
        if (!listening)
        {
            // Every hit on a shared copy tries to listen again (at most once a second), checked or not.
            RejoinSoon();
        }

        return (entry.SharedGeneration != Generation || !listening) && !_writes.ContainsKey(name);
    }

    public string NameOf(CacheKey key) => _store.Keys.Name("entry", key.ToString());

    // ── writing ─────────────────────────────────────────────────────────────────────────────────────────────────

    /// <summary>
    /// Writes an entry this replica just stored to Redis, in the background (a client never waits for it). Leases and
    /// tokens only: the auto-auth token is shared by auto-auth itself, static secrets by <c>Static/SharedStaticSecrets</c>.
    /// </summary>
    public void Publish(CacheEntry entry)
    {
        if (entry.Kind is not (CacheEntryKind.Lease or CacheEntryKind.Token) || entry.SharedName is not null || !_store.IsUp)
        {
            return;
        }

        var name = NameOf(entry.Id);
        entry.SharedName = name;
        entry.SharedGeneration = Generation;
        entry.SharedEpoch = Interlocked.Read(ref _epoch);
        _local[name] = entry;
        var write = WriteAsync(entry, name, CancellationToken.None);
        if (!write.IsCompleted)
        {
            // Kept while it runs, so that an in-flight owner waits for this write instead of sealing and writing again.
            _writes[name] = write;
            _ = write.ContinueWith(done => _writes.TryRemove(KeyValuePair.Create(name, done)), CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Writes (awaitable: the in-flight owner waits for it before telling the others).</summary>
    internal async Task<bool> WriteAsync(CacheEntry entry, string name, CancellationToken cancellationToken)
    {
        var remaining = entry.Lifetime.ExpiresAt - _time.GetUtcNow();
        if (remaining <= TimeSpan.Zero)
        {
            return false;
        }

        var epoch = entry.SharedEpoch;
        var entryKey = _store.Key("e", name);
        var sealedValue = _store.Sealer.Seal(entryKey, Plaintext(entry, epoch));
        var keys = new List<RedisKey> { entryKey, _store.Key("v", name), _epochKey };
        keys.AddRange(Pointers(entry.Token, entry.TokenAccessor, entry.Lease));
        var px = (long)Math.Max(1, remaining.TotalMilliseconds);
        RedisValue[] args =
        [
            sealedValue, px, epoch, LifetimeText(entry.Lifetime), name, _channel, $"{ReplicaId} stored {name}",
        ];
        var result = await _store.RunAsync(db => db.ScriptEvaluateAsync(WriteScript, [.. keys], args), cancellationToken).ConfigureAwait(false);
        if (!result.Ok)
        {
            return false;
        }

        var answer = (long)result.Value!;
        if (answer >= 0)
        {
            // A cache-clear happened since this entry was stored: it stays local (the clear message evicts it).
            InterlockedMax(ref _epoch, answer);
            return false;
        }

        Written?.Invoke(entry);
        return true;
    }

    /// <summary>After a renewal by this replica: the new lifetime for the others, and every key's expiry moved on.</summary>
    internal async Task WriteLifetimeAsync(CacheEntry entry, CacheLifetime lifetime, CancellationToken cancellationToken)
    {
        if (entry.SharedName is not { } name)
        {
            return;
        }

        var px = (long)Math.Max(1, (lifetime.ExpiresAt - _time.GetUtcNow()).TotalMilliseconds);
        var keys = new List<RedisKey> { _store.Key("v", name), _store.Key("e", name) };
        keys.AddRange(Pointers(entry.Token, entry.TokenAccessor, entry.Lease));
        await _store.RunAsync(
            db => db.ScriptEvaluateAsync(
                "if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) for i = 2, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end return 1",
                [.. keys],
                [LifetimeText(lifetime), px]),
            cancellationToken).ConfigureAwait(false);
    }

    // ── reading ─────────────────────────────────────────────────────────────────────────────────────────────────

    /// <summary>
    /// A local miss (or a local copy that must be re-checked): looks in Redis and, when the fleet holds the entry,
    /// puts a copy in the local index (with its parents, so the subtree rules hold) and returns true. False when Redis
    /// is away, does not hold it, or holds something this replica cannot open (never served).
    /// </summary>
    public async Task<bool> TryImportAsync(CacheKey key, CancellationToken cancellationToken)
    {
        if (!_store.IsUp)
        {
            return false;
        }

        if (!IsListening)
        {
            RejoinSoon();
        }

        if (_cache.Index.TryGet(key, out var local) && local.SharedName is not null)
        {
            return await RecheckAsync(local, cancellationToken).ConfigureAwait(false);
        }

        return await ImportByNameAsync(NameOf(key), 0, cancellationToken).ConfigureAwait(false) is not null;
    }

    private async Task<CacheEntry?> ImportByNameAsync(string name, int depth, CancellationToken cancellationToken)
    {
        // Taken before the read: a copy read before this replica listened again is checked once more after.
        var generation = Generation;
        var entryKey = _store.Key("e", name);
        var read = await _store.RunAsync(db => db.StringGetAsync([entryKey, _epochKey, _store.Key("v", name)]), cancellationToken).ConfigureAwait(false);
        if (!read.Ok || read.Value![0].IsNull)
        {
            return null;
        }

        var epochNow = read.Value[1].IsNull ? 0 : (long)read.Value[1];
        InterlockedMax(ref _epoch, epochNow);
        if (Open(entryKey, (byte[])read.Value[0]!) is not var (epoch, entry) || epoch < epochNow)
        {
            return null;
        }

        if (ParseLifetime(read.Value[2]) is { } lifetime && lifetime.Since > entry.Lifetime.Since)
        {
            entry.Lifetime = lifetime;
        }

        if (entry.Lifetime.RemainingSeconds(_time.GetUtcNow()) <= 0)
        {
            return null;
        }

        foreach (var parent in new[] { entry.LeaseToken, entry.TokenParent })
        {
            if (parent is not null && !await EnsureParentAsync(parent, depth, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
        }

        entry.SharedName = name;
        entry.SharedGeneration = generation;
        entry.SharedEpoch = epoch;
        if (!_cache.Add(entry))
        {
            // Already here (a race with another miss) or full: the one in the index serves.
            return _cache.Index.TryGet(entry.Id, out var present) ? present : null;
        }

        _local[name] = entry;
        Log.Imported(_logger, entry.ToString());
        return entry;
    }

    /// <summary>The parent token must be managed here (and still in the fleet) for a child to be served.</summary>
    private async Task<bool> EnsureParentAsync(string token, int depth, CancellationToken cancellationToken)
    {
        if (_cache.Index.GetByToken(token) is { } present)
        {
            return !NeedsCheck(present) || await RecheckAsync(present, cancellationToken).ConfigureAwait(false);
        }

        if (depth >= MaxParentDepth)
        {
            return false;
        }

        var pointer = await _store.RunAsync(db => db.StringGetAsync(_store.Key("t", _store.Keys.Name("token", token))), cancellationToken).ConfigureAwait(false);
        if (!pointer.Ok || pointer.Value.IsNull)
        {
            return false;
        }

        return await ImportByNameAsync(pointer.Value.ToString(), depth + 1, cancellationToken).ConfigureAwait(false) is not null;
    }

    /// <summary>
    /// A local copy from before the link to Redis dropped: still in the fleet (its entry, every shared ancestor, and no
    /// cache-clear since)? Then it is current again, with the fleet's lifetime; otherwise it leaves the local index.
    /// </summary>
    private async Task<bool> RecheckAsync(CacheEntry entry, CancellationToken cancellationToken)
    {
        var generation = Generation;
        var name = entry.SharedName!;
        var keys = new List<RedisKey> { _epochKey, _store.Key("v", name) };
        var ancestors = new List<CacheEntry>();
        var parentToken = entry.LeaseToken ?? entry.TokenParent;
        for (var depth = 0; parentToken is not null && depth < MaxParentDepth; depth++)
        {
            if (_cache.Index.GetByToken(parentToken) is not { } parent)
            {
                break;
            }

            if (parent.SharedName is { } parentName)
            {
                ancestors.Add(parent);
                keys.Add(_store.Key("v", parentName));
            }

            parentToken = parent.TokenParent;
        }

        var read = await _store.RunAsync(db => db.StringGetAsync([.. keys]), cancellationToken).ConfigureAwait(false);
        if (!read.Ok)
        {
            // Redis went away again: the copy is served as any local entry is while Redis is away.
            return !entry.Evicted;
        }

        var epochNow = read.Value![0].IsNull ? 0 : (long)read.Value[0];
        InterlockedMax(ref _epoch, epochNow);
        var gone = entry.SharedEpoch < epochNow || read.Value[1].IsNull;
        for (var i = 0; !gone && i < ancestors.Count; i++)
        {
            gone = ancestors[i].SharedEpoch < epochNow || read.Value[2 + i].IsNull;
        }

        if (gone)
        {
            Log.Dropped(_logger, entry.ToString());
            ApplyRemote(() => _cache.Index.Evict(entry, EvictionReason.Revoked));
            return false;
        }

        if (ParseLifetime(read.Value[1]) is { } lifetime && lifetime.Since > entry.Lifetime.Since)
        {
            entry.Lifetime = lifetime;
        }

        entry.SharedGeneration = generation;
        foreach (var ancestor in ancestors)
        {
            ancestor.SharedGeneration = generation;
        }

        return !entry.Evicted;
    }

    private (long Epoch, CacheEntry Entry)? Open(string entryKey, byte[] envelope)
    {
        var opened = _store.Sealer.Open(entryKey, envelope);
        if (opened.Status == SealStatus.OtherKey)
        {
            _store.Open(entryKey, envelope); // logs "sealed under another key" once, with both key ids
            return null;
        }

        if (opened.Status != SealStatus.Opened || opened.Plaintext is not { Length: > 40 } plain)
        {
            Corrupt(entryKey, "it does not open under this replica's key (damaged, or written for another name)");
            return null;
        }

        try
        {
            var epoch = BinaryPrimitives.ReadInt64LittleEndian(plain);
            var id = new CacheKey(
                BinaryPrimitives.ReadUInt64LittleEndian(plain.AsSpan(8)),
                BinaryPrimitives.ReadUInt64LittleEndian(plain.AsSpan(16)),
                BinaryPrimitives.ReadUInt64LittleEndian(plain.AsSpan(24)),
                BinaryPrimitives.ReadUInt64LittleEndian(plain.AsSpan(32)));
            var entry = PersistedEntry.Deserialize(id, plain.AsSpan(40));
            if (entry.Kind is not (CacheEntryKind.Lease or CacheEntryKind.Token) || entry.Response is null)
            {
                Corrupt(entryKey, "it holds no lease or token answer");
                return null;
            }

            return (epoch, entry);
        }
        catch (InvalidDataException exception)
        {
            Corrupt(entryKey, exception.Message);
            return null;
        }
    }

    private void Corrupt(string key, string why)
    {
        if (_corruptLogged.TryAdd(why, 0))
        {
            Log.Corrupt(_logger, key, why);
        }
    }

    // ── in-flight de-duplication ────────────────────────────────────────────────────────────────────────────────

    /// <summary>
    /// Claims the fleet's in-flight marker for a login or token create (<c>SET NX PX</c>). When another replica holds
    /// it, <paramref name="wait"/> completes when that replica announces its answer (stored or not).
    /// </summary>
    public async Task<(InFlightClaim Claim, Task Wait)> ClaimInFlightAsync(CacheKey key, CancellationToken cancellationToken)
    {
        if (!_store.IsUp)
        {
            return (InFlightClaim.None, Task.CompletedTask);
        }

        var name = NameOf(key);
        var waiter = _waiters.GetOrAdd(name, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var set = await _store.RunAsync(
            db => db.StringSetAsync(_store.Key("f", name), ReplicaId, InFlightWait, When.NotExists),
            cancellationToken).ConfigureAwait(false);
        if (!set.Ok || set.Value)
        {
            _waiters.TryRemove(new KeyValuePair<string, TaskCompletionSource>(name, waiter));
            return (set.Ok ? InFlightClaim.Mine : InFlightClaim.None, Task.CompletedTask);
        }

        return (InFlightClaim.Other, waiter.Task);
    }

    /// <summary>The owner's answer is in Redis (or will not be): waiters on every replica look, or go to Vault.</summary>
    public async Task ReleaseInFlightAsync(CacheKey key, CacheEntry? stored, CancellationToken cancellationToken)
    {
        var name = NameOf(key);
        if (stored is not null && stored.SharedName == name && _writes.TryGetValue(name, out var write))
        {
            // Publish started the write in the background: wait for it, so "done" follows the data. (Finished already:
            // the data is there, or the write failed and the waiters go to Vault themselves.)
            await write.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        await _store.RunAsync(db => db.KeyDeleteAsync(_store.Key("f", name)), cancellationToken).ConfigureAwait(false);
        await _store.PublishAsync(_channel, $"{ReplicaId} done {name}", cancellationToken).ConfigureAwait(false);
    }

    public void ForgetWaiter(CacheKey key) => _waiters.TryRemove(NameOf(key), out _);

    // ── invalidation ────────────────────────────────────────────────────────────────────────────────────────────

    /// <summary>
    /// An entry left this replica's index. A shared one that left for a reason the fleet must share (revoked, its parent
    /// gone, cleared, renewal refused) is deleted from Redis and its name published; one that expired just expires
    /// (Redis drops it at the same time); one evicted on another replica's word is not announced again.
    /// </summary>
    public void OnEvicted(CacheEntry entry, EvictionReason reason)
    {
        if (entry.SharedName is not { } name)
        {
            return;
        }

        _local.TryRemove(new KeyValuePair<string, CacheEntry>(name, entry));
        if (t_applyingRemote || reason is EvictionReason.Expired or EvictionReason.MaxTtl)
        {
            return;
        }

        var pointers = Pointers(entry.Token, entry.TokenAccessor, entry.Lease);
        pointers.Add(_store.Key("e", name));
        pointers.Add(_store.Key("v", name));
        var message = SealedMessage("entry", name, null);
        Enqueue(async ct =>
        {
            var deleted = await _store.RunAsync(db => db.KeyDeleteAsync([.. pointers]), ct).ConfigureAwait(false);
            return deleted.Ok && (await _store.PublishAsync(_channel, message, ct).ConfigureAwait(false)).Ok;
        });
    }

    /// <summary>
    /// A revocation Vault accepted through this replica, or a cache-clear made on it: every replica applies it to its
    /// own index (pub/sub, sealed), and what Redis holds under the token, accessor or lease goes at once, so a replica
    /// that never held it cannot take it from Redis later.
    /// </summary>
    public void Broadcast(string operation, string value, string? @namespace)
    {
        var pointers = operation switch
        {
            "token" or "orphan" or "clear_token" => Pointers(value, null, null),
            "accessor" or "clear_token_accessor" => Pointers(null, value, null),
            "lease" or "clear_lease" => Pointers(null, null, value),
            _ => [],
        };
        var clearAll = operation == "clear_all";
        var before = BeforeBroadcast;
        Enqueue(async ct =>
        {
            if (before is not null && !await before(operation, ct).ConfigureAwait(false))
            {
                return false;
            }

            if (pointers.Count > 0)
            {
                var deleted = await _store.RunAsync(db => db.ScriptEvaluateAsync(DeleteByPointerScript, [.. pointers], [_store.KeyPrefix]), ct).ConfigureAwait(false);
                if (!deleted.Ok)
                {
                    return false;
                }
            }

            var epoch = 0L;
            if (clearAll)
            {
                var incremented = await _store.RunAsync(db => db.StringIncrementAsync(_epochKey), ct).ConfigureAwait(false);
                if (!incremented.Ok)
                {
                    return false;
                }

                epoch = incremented.Value;
                InterlockedMax(ref _epoch, epoch);
            }

            var message = SealedMessage(operation, clearAll ? epoch.ToString(CultureInfo.InvariantCulture) : value, @namespace);
            return (await _store.PublishAsync(_channel, message, ct).ConfigureAwait(false)).Ok;
        });
    }

    private void Enqueue(Func<CancellationToken, Task<bool>> operation)
    {
        _ = RunOrKeepAsync(operation);
    }

    private async Task RunOrKeepAsync(Func<CancellationToken, Task<bool>> operation)
    {
        try
        {
            if (_store.IsUp && await operation(CancellationToken.None).ConfigureAwait(false))
            {
                Told?.Invoke(true);
                return;
            }
        }
        catch (ObjectDisposedException)
        {
            // The host is stopping: nothing more is told to the fleet.
            return;
        }

        // Redis is away: told when it returns (bounded; past the bound the oldest is dropped and that is logged once).
        _pending.Enqueue(operation);
        while (_pending.Count > MaxPending && _pending.TryDequeue(out _))
        {
            if (Interlocked.Exchange(ref _pendingLogged, 1) == 0)
            {
                Log.PendingDropped(_logger, MaxPending);
            }
        }

        Told?.Invoke(false);
    }

    private void OnStateChanged(bool up)
    {
        if (up)
        {
            _ = RejoinAsync();
        }
        else
        {
            StopListening();
        }
    }

    private void OnSubscriptionChanged(bool up)
    {
        if (!up)
        {
            StopListening();
        }
        else if (_store.IsUp)
        {
            _ = RejoinAsync();
        }
    }

    /// <summary>Messages to this replica may be lost from now on: every hit on a shared copy is checked first.</summary>
    private void StopListening()
    {
        bool was;
        lock (_listenLock)
        {
            _losses++;
            was = _listening == 1;
            Volatile.Write(ref _listening, 0);
        }

        if (was)
        {
            if (_store.IsUp)
            {
                Log.NotListening(_logger);
            }

            ListeningChanged?.Invoke(false);
        }
    }

    /// <summary>A hit found this replica not listening while Redis answers: try again, at most once a second.</summary>
    private void RejoinSoon()
    {
        var now = _time.GetTimestamp();
        var last = Interlocked.Read(ref _lastRejoinTicks);
        if ((last == long.MinValue || _time.GetElapsedTime(last, now) >= TimeSpan.FromSeconds(1))
            && Interlocked.CompareExchange(ref _lastRejoinTicks, now, last) == last)
        {
            _ = RejoinAsync();
        }
    }

    /// <summary>
    /// Redis answers again (or the pub/sub connection is back): 1. subscribe (acknowledged by Redis); 2. only then
    /// listen, with a new generation, so every local copy is re-checked once after the subscription holds; 3. tell the
    /// fleet what was kept while away. Not listening (refused, or dropped meanwhile): hits keep checking, and the next
    /// reconnect, or a hit a second later, tries again. One attempt at a time.
    /// </summary>
    private async Task RejoinAsync()
    {
        Interlocked.Exchange(ref _lastRejoinTicks, _time.GetTimestamp());
        await _rejoinGate.WaitAsync().ConfigureAwait(false);
        try
        {
            await CheckKeyAsync().ConfigureAwait(false);
            if (!IsListening)
            {
                var losses = Interlocked.Read(ref _losses);
                if (!await _store.SubscribeAsync(_channel, OnMessage, CancellationToken.None).ConfigureAwait(false) || !StartListening(losses))
                {
                    return;
                }
            }

            var count = _pending.Count;
            for (var i = 0; i < count && _pending.TryDequeue(out var operation); i++)
            {
                if (!await operation(CancellationToken.None).ConfigureAwait(false))
                {
                    _pending.Enqueue(operation);
                    break;
                }
            }

            Rejoined?.Invoke();
        }
        catch (ObjectDisposedException)
        {
            // The host is stopping.
        }
        finally
        {
            _rejoinGate.Release();
        }
    }

    /// <summary>Listening from now on, unless the subscription dropped since <paramref name="losses"/> was read.</summary>
    private bool StartListening(long losses)
    {
        lock (_listenLock)
        {
            if (_losses != losses)
            {
                return false;
            }

            Interlocked.Increment(ref _generation);
            Volatile.Write(ref _listening, 1);
        }

        Log.Listening(_logger);
        _subscribedOnce.TrySetResult();
        ListeningChanged?.Invoke(true);
        return true;
    }

    /// <summary>
    /// The first replica to reach Redis leaves a sealed marker at a fixed name; a replica that cannot open it holds
    /// other key material than the fleet (its names and seals differ, so it shares nothing): it says so, once, with both
    /// key ids.
    /// </summary>
    private async Task CheckKeyAsync()
    {
        var key = _store.Key("keycheck");
        var marker = _store.Sealer.Seal(key, "gatehouse shared cache"u8);
        var read = await _store.RunAsync(
            async db =>
            {
                await db.StringSetAsync(key, marker, when: When.NotExists).ConfigureAwait(false);
                return (byte[]?)await db.StringGetAsync(key).ConfigureAwait(false);
            },
            CancellationToken.None).ConfigureAwait(false);
        if (read is { Ok: true, Value: { } value })
        {
            _store.Open(key, value);
        }
    }

    private void OnMessage(string message)
    {
        var parts = message.Split(' ', 3);
        if (parts.Length != 3 || parts[0] == ReplicaId)
        {
            return;
        }

        switch (parts[1])
        {
            case "stored" or "done":
                if (_waiters.TryRemove(parts[2], out var waiter))
                {
                    waiter.TrySetResult();
                }

                return;
            case "op":
                ApplyOperation(parts[2]);
                return;
        }
    }

    private void ApplyOperation(string sealedBase64)
    {
        byte[] envelope;
        try
        {
            envelope = Convert.FromBase64String(sealedBase64);
        }
        catch (FormatException)
        {
            Corrupt(_channel, "a message is not base64");
            return;
        }

        var opened = _store.Sealer.Open(_channel, envelope);
        if (opened.Status == SealStatus.OtherKey)
        {
            _store.Open(_channel, envelope);
            return;
        }

        if (opened.Status != SealStatus.Opened)
        {
            Corrupt(_channel, "a message does not open under this replica's key");
            return;
        }

        string op, value;
        string? ns;
        try
        {
            using var document = JsonDocument.Parse(opened.Plaintext);
            var root = document.RootElement;
            op = root.GetProperty("op").GetString() ?? "";
            value = root.GetProperty("value").GetString() ?? "";
            ns = root.TryGetProperty("ns", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            Corrupt(_channel, "a message is not one this build reads");
            return;
        }

        var index = _cache.Index;
        var evicted = 0;
        ApplyRemote(() => evicted = op switch
        {
            "entry" => _local.TryGetValue(value, out var entry) ? index.Evict(entry, EvictionReason.Revoked) : 0,
            "token" => index.EvictToken(value, EvictionReason.Revoked),
            "accessor" => index.EvictAccessor(value, EvictionReason.Revoked),
            "orphan" => index.EvictOrphaning(value, EvictionReason.Revoked),
            "lease" => index.EvictLease(value, EvictionReason.Revoked),
            "lease_prefix" => index.EvictLeasePrefix(value.Trim('/'), ns, EvictionReason.Revoked),
            "clear_request_path" => index.EvictRequestPath(value, ns ?? "root/", EvictionReason.Cleared),
            "clear_token" => index.EvictToken(value, EvictionReason.Cleared),
            "clear_token_accessor" => index.EvictAccessor(value, EvictionReason.Cleared),
            "clear_lease" => index.EvictLease(value, EvictionReason.Cleared),
            "clear_all" => _cache.ClearAll(),
            _ => Other(op, value, ns),
        });
        if (op == "clear_all" && long.TryParse(value, CultureInfo.InvariantCulture, out var epoch))
        {
            InterlockedMax(ref _epoch, epoch);
        }

        if (op != "entry")
        {
            Log.Applied(_logger, op, evicted);
        }

        RemoteApplied?.Invoke(op);
    }

    private int Other(string op, string value, string? ns)
    {
        OtherOperation?.Invoke(op, value, ns);
        return 0;
    }

    /// <summary>Runs <paramref name="apply"/> without announcing its evictions one by one (a broadcast covers them).</summary>
    public static void Quietly(Action apply) => ApplyRemote(apply);

    private static void ApplyRemote(Action apply)
    {
        var outer = t_applyingRemote;
        t_applyingRemote = true;
        try
        {
            apply();
        }
        finally
        {
            t_applyingRemote = outer;
        }
    }

    private string SealedMessage(string op, string value, string? @namespace)
    {
        // JsonNode, not JsonSerializer on a dictionary: reflection-based serialization is not in the Native AOT build.
        var json = Encoding.UTF8.GetBytes(new JsonObject { ["op"] = op, ["value"] = value, ["ns"] = @namespace }.ToJsonString());
        return $"{ReplicaId} op {Convert.ToBase64String(_store.Sealer.Seal(_channel, json))}";
    }

    // ── helpers ─────────────────────────────────────────────────────────────────────────────────────────────────

    private List<RedisKey> Pointers(string? token, string? accessor, string? lease)
    {
        var keys = new List<RedisKey>(3);
        if (token is not null)
        {
            keys.Add(_store.Key("t", _store.Keys.Name("token", token)));
        }

        if (accessor is not null)
        {
            keys.Add(_store.Key("a", _store.Keys.Name("accessor", accessor)));
        }

        if (lease is not null)
        {
            keys.Add(_store.Key("l", _store.Keys.Name("lease", lease)));
        }

        return keys;
    }

    private static byte[] Plaintext(CacheEntry entry, long epoch)
    {
        var body = PersistedEntry.Serialize(entry);
        var plain = new byte[40 + body.Length];
        BinaryPrimitives.WriteInt64LittleEndian(plain, epoch);
        BinaryPrimitives.WriteUInt64LittleEndian(plain.AsSpan(8), entry.Id.A);
        BinaryPrimitives.WriteUInt64LittleEndian(plain.AsSpan(16), entry.Id.B);
        BinaryPrimitives.WriteUInt64LittleEndian(plain.AsSpan(24), entry.Id.C);
        BinaryPrimitives.WriteUInt64LittleEndian(plain.AsSpan(32), entry.Id.D);
        body.CopyTo(plain, 40);
        return plain;
    }

    internal static string LifetimeText(CacheLifetime lifetime) =>
        string.Create(CultureInfo.InvariantCulture, $"{lifetime.Since.ToUnixTimeMilliseconds()}:{lifetime.TtlSeconds}");

    internal static CacheLifetime? ParseLifetime(RedisValue value)
    {
        if (value.IsNull)
        {
            return null;
        }

        var text = value.ToString();
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon > 0
            && long.TryParse(text.AsSpan(0, colon), CultureInfo.InvariantCulture, out var since)
            && long.TryParse(text.AsSpan(colon + 1), CultureInfo.InvariantCulture, out var ttl)
            ? new CacheLifetime(DateTimeOffset.FromUnixTimeMilliseconds(since), ttl)
            : null;
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    public void Dispose()
    {
        _store.StateChanged -= OnStateChanged;
        _store.SubscriptionChanged -= OnSubscriptionChanged;
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.SharedEntriesImported, LogLevel.Debug, "Took {Entry} from the shared cache")]
        public static partial void Imported(ILogger logger, string entry);

        [LoggerMessage(LogEvents.SharedEntriesDropped, LogLevel.Information, "Dropped local copy of {Entry}: the fleet no longer holds it (revoked, cleared or expired while the link to Redis was down)")]
        public static partial void Dropped(ILogger logger, string entry);

        [LoggerMessage(LogEvents.SharedEntriesApplied, LogLevel.Debug, "Applied {Operation} from another replica; evicted {Count} entries")]
        public static partial void Applied(ILogger logger, string operation, int count);

        [LoggerMessage(LogEvents.SharedEntriesCorrupt, LogLevel.Warning, "Ignoring shared cache data at {Key}: {Reason} (logged once per cause; such data is never served)")]
        public static partial void Corrupt(ILogger logger, string key, string reason);

        [LoggerMessage(LogEvents.SharedEntriesNotListening, LogLevel.Warning, "Not hearing the fleet's cache messages (the pub/sub connection to Redis dropped or is refused): every hit on a shared entry is checked against Redis until this replica listens again")]
        public static partial void NotListening(ILogger logger);

        [LoggerMessage(LogEvents.SharedEntriesListening, LogLevel.Information, "Listening to the fleet's cache messages; each shared entry held here is checked against Redis once before it is served again")]
        public static partial void Listening(ILogger logger);

        [LoggerMessage(LogEvents.SharedEntriesPendingDropped, LogLevel.Warning, "More than {Count} invalidations waited for Redis to return; the oldest were dropped: those revocations reach the other replicas' copies only when Vault refuses their renewal")]
        public static partial void PendingDropped(ILogger logger, int count);
    }
}
