using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Gatehouse.Shared;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gatehouse.Cache.Static;

/// <summary>What one Redis round trip on a local miss found (either part may be missing); <see cref="Writes"/> and <see cref="Epoch"/> as they were then.</summary>
internal sealed record StaticLookup(FleetGrant? Grant, FleetSecret? Secret, string Writes, string Epoch);

/// <summary>
/// The static-secret cache shared by the fleet through Redis (<c>cache { shared "redis" }</c> with
/// <c>cache_static_secrets</c>). A replica that reads a secret from Vault writes the answer (sealed, named by an HMAC
/// of the read's identity: namespace, path, version; never a token) and the reading token's grant (sealed, named by
/// HMACs of the token and the path, with the time Vault last confirmed it); a replica with a local miss takes both in
/// one round trip, serves, and keeps local copies, so later hits are local. Changes travel as sealed <c>static_*</c>
/// operations on <see cref="SharedEntries"/>' channel and are applied by every replica: writes to a secret,
/// revalidations that found a change, grant withdrawals and token revocations; cache-clears retire every record in
/// Redis through the static epoch before they are published. Redis being away never fails a request: the cache works
/// alone, tells the fleet what it could not tell when Redis returns, and re-checks its fleet copies before serving
/// them again.
/// </summary>
/// <remarks>
/// Redis layout under the key prefix: <c>ss:{sid}</c> a secret's reads (field <c>{rid}</c> sealed, <c>v:{rid}</c>
/// <c>validated-ms:stamp</c>); <c>sw:{sid}</c> its write counter; <c>sg:{tid}</c> a token's grants (field <c>{gid}</c>
/// sealed); <c>sa:{aid}</c> accessor → grants key; <c>sm:{nid}</c> learned KV mounts; <c>sepoch</c>. See
/// <see cref="SharedStaticRecords"/>.
/// </remarks>
internal sealed partial class SharedStaticSecrets : IDisposable
{

    /// <summary>How often a replica looks in Redis for the KV mounts of a namespace it has not learned a read's mount in.</summary>
    public static readonly TimeSpan MountLoadInterval = TimeSpan.FromSeconds(10);

    /// <summary>How long the fleet's learned mounts live in Redis (every replica learning one again renews it).</summary>
    private static readonly TimeSpan MountRecordLifetime = TimeSpan.FromHours(1);
    private static readonly TimeSpan WritesCounterTtl = TimeSpan.FromDays(1);

    // KEYS: ss, sg, sw, sepoch; ARGV: read field, version field, grant field.
    private const string LookupScript = """
        return { redis.call('HGET', KEYS[1], ARGV[1]), redis.call('HGET', KEYS[1], ARGV[2]), redis.call('HGET', KEYS[2], ARGV[3]),
                 redis.call('GET', KEYS[3]) or '0', redis.call('GET', KEYS[4]) or '0' }
        """;

    // KEYS: ss, sw, sepoch; ARGV: read field, sealed, version field, version, px, writes seen ('' = not looked), epoch seen, replace.
    // A replacement (a revalidation found a change) retires the secret's other reads and moves the write counter on.
    private const string WriteScript = """
        local writes = redis.call('GET', KEYS[2]) or '0'
        if (ARGV[6] ~= '' and writes ~= ARGV[6]) or (redis.call('GET', KEYS[3]) or '0') ~= ARGV[7] then return 0 end
        if ARGV[8] == '1' then
          redis.call('DEL', KEYS[1])
          redis.call('INCR', KEYS[2])
          redis.call('PEXPIRE', KEYS[2], ARGV[9])
        end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])
        redis.call('PEXPIRE', KEYS[1], ARGV[5])
        return 1
        """;

    // KEYS: ss, sw; ARGV: counter ttl. A write to the secret: its reads go, and fills in flight anywhere do not store.
    private const string InvalidateScript = """
        redis.call('DEL', KEYS[1])
        redis.call('INCR', KEYS[2])
        redis.call('PEXPIRE', KEYS[2], ARGV[1])
        return 1
        """;

    // KEYS: ss; ARGV: version field, stamp, new version, px. Unchanged at revalidation: newer validation time, longer life.
    private const string TouchScript = """
        local v = redis.call('HGET', KEYS[1], ARGV[1])
        if not v or string.sub(v, -string.len(ARGV[2])) ~= ARGV[2] then return 0 end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        return 1
        """;

    // KEYS: sg, sa (optional); ARGV: px, then field/sealed pairs. The hash lives as long as its youngest grant.
    private const string GrantScript = """
        for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
        if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        if KEYS[2] then redis.call('SET', KEYS[2], KEYS[1], 'PX', ARGV[1]) end
        return 1
        """;

    // KEYS: sa. The accessor's token loses every grant.
    private const string DropAccessorScript = """
        local grants = redis.call('GET', KEYS[1])
        if grants then redis.call('DEL', grants) end
        redis.call('DEL', KEYS[1])
        return 1
        """;

    private readonly SharedStore _store;
    private readonly StaticSecretCache _cache;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SharedEntries _entries;

    /// <summary>Local copies of fleet records (taken or written here): the stamp, epoch and link generation they were last known under.</summary>
    private readonly ConcurrentDictionary<CacheKey, Copy> _copies = new();
    private readonly ConcurrentDictionary<string, byte> _corruptLogged = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _mountLoads = new(StringComparer.Ordinal);

    public SharedStaticSecrets(SharedStore store, StaticSecretCache cache, SharedEntries entries, TimeSpan recordLifetime, TimeProvider time, ILogger logger)
    {
        _store = store;
        _cache = cache;
        _entries = entries;
        _time = time;
        _logger = logger;
        Records = new SharedStaticRecords(store);
        RecordLifetime = recordLifetime;
        cache.Index.Evicted += OnEvicted;
        entries.BeforeBroadcast = BeforeBroadcastAsync;
        entries.OtherOperation = Apply;
    }

    public SharedStaticRecords Records { get; }

    /// <summary>How long a secret's records live in Redis without a revalidation or a new fill.</summary>
    public TimeSpan RecordLifetime { get; }

    public bool IsUp => _store.IsUp;

    /// <summary>The link generation (<see cref="SharedEntries.Generation"/>): bumped each time Redis comes back.</summary>
    private int Generation => _entries.Generation;

    /// <summary>Raised after a secret ("secret") or grants ("grant") were written to Redis (tests wait on it).</summary>
    public event Action<string>? Written;

    // ── a local miss ────────────────────────────────────────────────────────────────────────────────────────────

    /// <summary>
    /// One round trip: the token's fleet grant on the read path and the read's record, with the secret's write counter
    /// and the static epoch as they are now (a fill that follows stores only if neither moved). Null when Redis is away.
    /// What does not open, or was written before the last clear, is left out (and logged once per cause).
    /// </summary>
    public async Task<StaticLookup?> LookupAsync(string token, StaticSecretInfo info, CacheKey key, CancellationToken cancellationToken)
    {
        if (!_store.IsUp)
        {
            return null;
        }

        var secretKey = Records.SecretKey(info.SecretId);
        var grantsKey = Records.GrantsKey(token);
        var readField = Records.ReadField(key);
        var grantField = Records.GrantField(StaticSecretCache.GrantOf(info));
        var read = await _store.RunAsync(
            db => db.ScriptEvaluateAsync(
                LookupScript,
                [secretKey, grantsKey, Records.WritesKey(info.SecretId), Records.EpochKey],
                [readField, SharedStaticRecords.VersionField(readField), grantField]),
            cancellationToken).ConfigureAwait(false);
        if (!read.Ok || (RedisValue[]?)read.Value is not { Length: 5 } values)
        {
            return null;
        }

        var epoch = values[4].ToString();
        FleetGrant? grant = null;
        if (!values[2].IsNull)
        {
            var (opened, problem) = Records.OpenGrant(grantsKey, grantField, (byte[])values[2]!);
            grant = opened;
            Corrupt(grantsKey, problem);
        }

        FleetSecret? secret = null;
        if (!values[0].IsNull)
        {
            var (opened, problem) = Records.OpenSecret(secretKey, readField, (byte[])values[0]!, key);
            Corrupt(secretKey, problem);
            if (opened is not null && opened.Epoch.ToString(CultureInfo.InvariantCulture) == epoch)
            {
                secret = SharedStaticRecords.ParseVersion(values[1].ToString()) is { } version && version.Stamp == opened.Stamp && version.ValidatedAt > opened.FetchedAt
                    ? opened with { FetchedAt = version.ValidatedAt }
                    : opened;
            }
        }

        return new StaticLookup(grant, secret, values[3].ToString(), epoch);
    }

    /// <summary>True when a fleet grant may be taken now: confirmed by Vault within the capability refresh interval, token not expired.</summary>
    public static bool IsFresh(FleetGrant grant, TimeSpan capabilityRefresh, DateTimeOffset now) =>
        now - grant.ConfirmedAt < capabilityRefresh && grant.ConfirmedAt <= now + TimeSpan.FromMinutes(1)
        && (grant.ExpiresAt is not { } expires || now < expires);

    /// <summary>Records that the local index holds a copy of a fleet record (taken from Redis, or written there by this replica).</summary>
    public void Remember(CacheKey key, FleetSecret secret) => _copies[key] = new Copy(secret.Stamp, secret.Epoch, Generation);

    /// <summary>
    /// True when a local copy of a fleet record must be re-checked against Redis before it is served: the link dropped
    /// since, or this replica does not hear the fleet now while Redis answers (as <see cref="SharedEntries.NeedsCheck"/>).
    /// </summary>
    public bool NeedsCheck(CacheKey key) =>
        _store.IsUp && _copies.TryGetValue(key, out var copy) && (copy.Generation != Generation || !_entries.IsListening);

    /// <summary>
    /// A local copy from before the link to Redis dropped (messages may have been lost): does Redis still hold the same
    /// write of it (same stamp, no clear since)? Then it is current again; otherwise false and the caller evicts it.
    /// </summary>
    public async Task<bool> RecheckAsync(CacheKey key, StaticSecretInfo info, CancellationToken cancellationToken)
    {
        if (!_copies.TryGetValue(key, out var copy))
        {
            return true;
        }

        var readField = Records.ReadField(key);
        var secretKey = Records.SecretKey(info.SecretId);
        var read = await _store.RunAsync(
            async db => new[]
            {
                await db.HashGetAsync(secretKey, SharedStaticRecords.VersionField(readField)).ConfigureAwait(false),
                await db.StringGetAsync(Records.EpochKey).ConfigureAwait(false),
            },
            cancellationToken).ConfigureAwait(false);
        if (!read.Ok)
        {
            // Redis went away again: the copy is served as any local entry is while Redis is away.
            return true;
        }

        var epoch = read.Value![1].IsNull ? 0 : (long)read.Value[1];
        if (SharedStaticRecords.ParseVersion(read.Value[0].ToString()) is { } version && version.Stamp == copy.Stamp && copy.Epoch == epoch)
        {
            _copies[key] = copy with { Generation = Generation };
            return true;
        }

        _copies.TryRemove(key, out _);
        Log.Dropped(_logger, info.Namespace, info.ReadPath);
        return false;
    }

    /// <summary>
    /// A read under a mount this replica has not learned: takes the KV mounts the fleet learned in the namespace (one
    /// round trip, at most once per <see cref="MountLoadInterval"/> per namespace), so that the read can be looked up
    /// in the fleet instead of going to Vault to learn the mount. Returns how many were learned.
    /// </summary>
    public async Task<int> LoadMountsAsync(string @namespace, KvMounts mounts, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (!_store.IsUp || (_mountLoads.TryGetValue(@namespace, out var last) && now - last < MountLoadInterval))
        {
            return 0;
        }

        if (_mountLoads.Count >= 10_000)
        {
            _mountLoads.Clear();
        }

        _mountLoads[@namespace] = now;
        var mountsKey = Records.MountsKey(@namespace);
        var read = await _store.RunAsync(db => db.HashGetAllAsync(mountsKey), cancellationToken).ConfigureAwait(false);
        if (!read.Ok)
        {
            return 0;
        }

        var learned = 0;
        foreach (var field in read.Value!)
        {
            if (Records.OpenMount(mountsKey, field.Name.ToString(), (byte[])field.Value!) is { } mount)
            {
                mounts.Learn(@namespace, mount.Path, mount.Kind);
                learned++;
            }
            else
            {
                Corrupt(mountsKey, "a mount record does not open under this replica's key");
            }
        }

        return learned;
    }

    /// <summary>A KV mount this replica learned from Vault, for the fleet (in the background).</summary>
    public void PublishMount(string @namespace, string mountPath, MountKind kind)
    {
        if (kind == MountKind.Other || !_store.IsUp)
        {
            return;
        }

        var mountsKey = Records.MountsKey(@namespace);
        var field = Records.MountField(@namespace, mountPath);
        var sealedMount = Records.SealMount(mountsKey, field, mountPath, kind);
        _ = _store.RunAsync(
            async db =>
            {
                await db.HashSetAsync(mountsKey, field, sealedMount).ConfigureAwait(false);
                return await db.KeyExpireAsync(mountsKey, MountRecordLifetime).ConfigureAwait(false);
            },
            CancellationToken.None);
    }

    // ── writing ─────────────────────────────────────────────────────────────────────────────────────────────────

    /// <summary>
    /// Writes a read this replica fetched from Vault, in the background. <paramref name="seen"/> is what the lookup
    /// before the Vault read found: the write is refused when a write to the secret or a clear happened since (the
    /// answer may be older than it). Without a lookup (the mount was learned by this read) only the epoch is checked.
    /// </summary>
    public void Publish(CacheEntry entry, StaticLookup? seen) => _ = WriteAsync(entry, seen?.Writes ?? "", seen?.Epoch, replace: false);

    /// <summary>A revalidation found a change: the new answer replaces every read of the secret, and the fleet drops its copies.</summary>
    public void Replace(CacheEntry entry, string? writesSeen) => _ = ReplaceAsync(entry, writesSeen);

    private async Task ReplaceAsync(CacheEntry entry, string? writesSeen)
    {
        // Published after the write: a replica that drops its copy on the message then finds the new answer, not the old.
        await WriteAsync(entry, writesSeen ?? "", null, replace: true).ConfigureAwait(false);
        _entries.Announce(SecretOperation, entry.Static!.SecretId, null);
    }

    private async Task WriteAsync(CacheEntry entry, string writesSeen, string? epochSeen, bool replace)
    {
        if (!_store.IsUp)
        {
            return;
        }

        var info = entry.Static!;
        var epochText = epochSeen;
        if (epochText is null)
        {
            var current = await _store.RunAsync(db => db.StringGetAsync(Records.EpochKey), CancellationToken.None).ConfigureAwait(false);
            if (!current.Ok)
            {
                return;
            }

            epochText = current.Value.IsNull ? "0" : current.Value.ToString();
        }

        var epoch = long.Parse(epochText, CultureInfo.InvariantCulture);
        var stamp = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = new FleetSecret(info, entry.Response!, entry.OriginalTtlSeconds, entry.FetchedAt, epoch, stamp);
        var secretKey = Records.SecretKey(info.SecretId);
        var readField = Records.ReadField(entry.Id);
        RedisValue[] args =
        [
            readField, Records.SealSecret(secretKey, readField, secret), SharedStaticRecords.VersionField(readField),
            SharedStaticRecords.VersionText(entry.FetchedAt, stamp), Milliseconds(RecordLifetime), writesSeen, epochText,
            replace ? "1" : "0", Milliseconds(WritesCounterTtl),
        ];
        var written = await _store.RunAsync(
            db => db.ScriptEvaluateAsync(WriteScript, [secretKey, Records.WritesKey(info.SecretId), Records.EpochKey], args),
            CancellationToken.None).ConfigureAwait(false);
        if (written.Ok && (long)written.Value! == 1)
        {
            Remember(entry.Id, secret);
            Written?.Invoke("secret");
        }
    }

    /// <summary>The secret's write counter now (a revalidation reads it before asking Vault); null when Redis is away.</summary>
    public async Task<string?> WritesOfAsync(string secretId, CancellationToken cancellationToken)
    {
        if (!_store.IsUp)
        {
            return null;
        }

        var read = await _store.RunAsync(db => db.StringGetAsync(Records.WritesKey(secretId)), cancellationToken).ConfigureAwait(false);
        return read.Ok ? (read.Value.IsNull ? "0" : read.Value.ToString()) : null;
    }

    /// <summary>A revalidation found the read unchanged: the fleet's record is validated now too and lives on.</summary>
    public void Touch(CacheEntry entry)
    {
        if (!_store.IsUp || !_copies.TryGetValue(entry.Id, out var copy))
        {
            return;
        }

        var readField = Records.ReadField(entry.Id);
        _ = _store.RunAsync(
            db => db.ScriptEvaluateAsync(
                TouchScript,
                [Records.SecretKey(entry.Static!.SecretId)],
                [SharedStaticRecords.VersionField(readField), ":" + copy.Stamp, SharedStaticRecords.VersionText(_time.GetUtcNow(), copy.Stamp), Milliseconds(RecordLifetime)]),
            CancellationToken.None);
    }

    /// <summary>
    /// Writes the token's grants on <paramref name="paths"/>, confirmed by Vault now (a successful read, or a capability
    /// refresh that kept them), in the background. Each lives in Redis for the capability refresh interval.
    /// </summary>
    public void PublishGrants(string token, IReadOnlyCollection<GrantPath> paths, string? accessor, DateTimeOffset? expiresAt, TimeSpan capabilityRefresh)
    {
        if (paths.Count == 0 || !_store.IsUp)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var lifetime = expiresAt is { } e && e - now < capabilityRefresh ? e - now : capabilityRefresh;
        if (lifetime <= TimeSpan.Zero)
        {
            return;
        }

        var grantsKey = Records.GrantsKey(token);
        var grant = new FleetGrant(now, accessor, expiresAt);
        var args = new List<RedisValue> { Milliseconds(lifetime) };
        foreach (var path in paths)
        {
            var field = Records.GrantField(path);
            args.Add(field);
            args.Add(Records.SealGrant(grantsKey, field, grant));
        }

        RedisKey[] keys = accessor is null ? [grantsKey] : [grantsKey, Records.AccessorKey(accessor)];
        _ = Task.Run(async () =>
        {
            var written = await _store.RunAsync(db => db.ScriptEvaluateAsync(GrantScript, keys, [.. args]), CancellationToken.None).ConfigureAwait(false);
            if (written.Ok)
            {
                Written?.Invoke("grant");
            }
        });
    }

    // ── invalidation ────────────────────────────────────────────────────────────────────────────────────────────
    // Told to the fleet on the lease cache's channel (SharedEntries.Announce: sealed, kept while Redis is away),
    // as operations named static_*, which every other replica applies in Apply.

    private const string SecretOperation = "static_secret";
    private const string GrantOperation = "static_grant";
    private const string TokenOperation = "static_token";
    private const string AccessorOperation = "static_accessor";

    /// <summary>
    /// Secrets a write changed (secret ids, or prefixes ending in a newline for a whole mount or namespace): their
    /// records leave Redis (a prefix retires every record through the epoch) and every replica evicts its copies.
    /// Returns when Redis has it (bounded by operation_timeout), so a read through another replica after the write's
    /// answer does not find the old value in Redis.
    /// </summary>
    public async Task InvalidateAsync(IReadOnlyList<string> targets, CancellationToken cancellationToken)
    {
        foreach (var target in targets)
        {
            var change = InvalidateOne(target);
            var done = _store.IsUp && await change(cancellationToken).ConfigureAwait(false);
            _entries.Announce(SecretOperation, target, null, done ? null : change);
        }
    }

    private Func<CancellationToken, Task<bool>> InvalidateOne(string target)
    {
        var isPrefix = target.EndsWith('\n');
        // A whole namespace (its mount table changed): the mounts the fleet learned there are forgotten too.
        var mountsKey = StaticSecretCache.NamespaceOfPrefix(target) is { } ns ? Records.MountsKey(ns) : null;
        RedisKey[] keys = isPrefix ? [] : [Records.SecretKey(target), Records.WritesKey(target)];
        return async ct => isPrefix
            ? await _store.RunAsync(
                async db =>
                {
                    if (mountsKey is not null)
                    {
                        await db.KeyDeleteAsync(mountsKey).ConfigureAwait(false);
                    }

                    return await db.StringIncrementAsync(Records.EpochKey).ConfigureAwait(false);
                },
                ct).ConfigureAwait(false) is { Ok: true }
            : await _store.RunAsync(db => db.ScriptEvaluateAsync(InvalidateScript, keys, [Milliseconds(WritesCounterTtl)]), ct).ConfigureAwait(false) is { Ok: true };
    }

    /// <summary>The token lost its read on a path (Vault said 403, or capabilities-self no longer lists read): everywhere.</summary>
    public void GrantRevoked(string token, GrantPath path)
    {
        var grantsKey = Records.GrantsKey(token);
        var field = Records.GrantField(path);
        _entries.Announce(GrantOperation, token + "\n" + path.ReadPath, path.Namespace,
            async ct => (await _store.RunAsync(db => db.HashDeleteAsync(grantsKey, field), ct).ConfigureAwait(false)).Ok);
    }

    /// <summary>The token is revoked, or Vault refused it: every replica drops its grants, and Redis forgets them.</summary>
    public void TokenDropped(string token)
    {
        var grantsKey = Records.GrantsKey(token);
        _entries.Announce(TokenOperation, token, null, async ct => (await _store.RunAsync(db => db.KeyDeleteAsync(grantsKey), ct).ConfigureAwait(false)).Ok);
    }

    /// <summary>A revoke-accessor went through this replica: the accessor's token loses its grants everywhere.</summary>
    public void AccessorDropped(string accessor)
    {
        var accessorKey = Records.AccessorKey(accessor);
        _entries.Announce(AccessorOperation, accessor, null,
            async ct => (await _store.RunAsync(db => db.ScriptEvaluateAsync(DropAccessorScript, [accessorKey]), ct).ConfigureAwait(false)).Ok);
    }

    /// <summary>
    /// A cache-clear made on this replica (<see cref="SharedEntries.Broadcast"/> tells every replica to clear its own
    /// index, static copies included): a clear that may cover static entries first retires every static record in
    /// Redis (the epoch), so no replica takes one again after it applied the clear. A <c>request_path</c> clear retires
    /// them all (the records' paths are HMAC-named, so they cannot be matched by prefix): the fleet reads them again.
    /// </summary>
    private async Task<bool> BeforeBroadcastAsync(string operation, CancellationToken cancellationToken) =>
        operation is not ("clear_all" or "clear_request_path")
        || (await _store.RunAsync(db => db.StringIncrementAsync(Records.EpochKey), cancellationToken).ConfigureAwait(false)).Ok;

    /// <summary>An operation another replica announced (sealed; opened by <see cref="SharedEntries"/>).</summary>
    private void Apply(string op, string value, string? @namespace)
    {
        switch (op)
        {
            case SecretOperation:
                _cache.ApplyFleetWrite(value);
                break;
            case GrantOperation when @namespace is not null && value.IndexOf('\n', StringComparison.Ordinal) is > 0 and var newline:
                _cache.Grants.Revoke(value[..newline], new GrantPath(@namespace, value[(newline + 1)..]));
                break;
            case TokenOperation:
                _cache.Grants.Drop(value);
                break;
            case AccessorOperation:
                _cache.Grants.DropAccessor(value);
                break;
        }
    }

    private void OnEvicted(CacheEntry entry, EvictionReason reason)
    {
        if (entry.Kind == CacheEntryKind.StaticSecret)
        {
            _copies.TryRemove(entry.Id, out _);
        }
    }

    private void Corrupt(string key, string? why)
    {
        if (why is not null && _corruptLogged.TryAdd(why, 0))
        {
            Log.Corrupt(_logger, key, why);
        }
    }

    private static long Milliseconds(TimeSpan span) => (long)Math.Max(1, span.TotalMilliseconds);

    public void Dispose()
    {
        _cache.Index.Evicted -= OnEvicted;
        _entries.BeforeBroadcast = null;
        _entries.OtherOperation = null;
    }

    private readonly record struct Copy(string Stamp, long Epoch, int Generation);

    private static partial class Log
    {
        [LoggerMessage(LogEvents.SharedStaticImported, LogLevel.Debug, "Took static secret namespace \"{Namespace}\" path {Path} from the shared cache")]
        public static partial void Imported(ILogger logger, string @namespace, string path);

        [LoggerMessage(LogEvents.SharedStaticDropped, LogLevel.Information, "Dropped local copy of static secret namespace \"{Namespace}\" path {Path}: the fleet no longer holds that answer (written, cleared or expired while the link to Redis was down)")]
        public static partial void Dropped(ILogger logger, string @namespace, string path);

        [LoggerMessage(LogEvents.SharedStaticCorrupt, LogLevel.Warning, "Ignoring shared static-secret data at {Key}: {Reason} (logged once per cause; such data is never served)")]
        public static partial void Corrupt(ILogger logger, string key, string reason);
    }

    /// <summary>Logs that a fleet copy was taken (from <see cref="StaticSecretCache"/>).</summary>
    public void LogImported(StaticSecretInfo info) => Log.Imported(_logger, info.Namespace, info.ReadPath);
}
