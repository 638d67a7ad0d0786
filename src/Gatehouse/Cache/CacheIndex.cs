using System.Collections.Concurrent;

namespace Gatehouse.Cache;

internal enum EvictionReason
{
    Revoked,
    ParentGone,
    Cleared,
    RenewalRefused,
    Expired,
    MaxTtl,
}

internal enum CacheAddResult
{
    Added,

    /// <summary>The bound on entries or bytes is reached: serve the answer, do not cache it.</summary>
    Full,

    /// <summary>The same request, token or lease is already cached (a race between two misses).</summary>
    Duplicate,
}

/// <summary>
/// Every cached entry with Vault's secondary indexes (token, accessor, lease, lease token, token parent,
/// namespace + request path). Hits read the primary map without a lock; every change takes one lock, which keeps
/// the secondary indexes and the subtree walks consistent. Bounded by entries and bytes.
/// </summary>
internal sealed class CacheIndex
{
    /// <summary>At most this many distinct strings are shared; past it, an entry keeps its own (the pool never grows with traffic).</summary>
    public const int SharedStringCapacity = 4096;

    /// <summary>Longer strings are not shared: a request path that long is not one many entries have.</summary>
    public const int MaxSharedStringLength = 512;

    private readonly ConcurrentDictionary<CacheKey, CacheEntry> _byId = new();
    private readonly Dictionary<string, CacheEntry> _byToken = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CacheEntry> _byAccessor = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CacheEntry> _byLease = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<CacheEntry>> _byLeaseToken = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<CacheEntry>> _byTokenParent = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<CacheEntry>> _bySecret = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Namespaces, request paths and methods the entries share (guarded by the lock, bounded).</summary>
    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    private readonly Func<string, string> _shareLocked;
    private readonly Func<string?, string?> _managedInstanceLocked;
    private long _bytes;

    public CacheIndex(int maxEntries, long maxBytes)
    {
        MaxEntries = maxEntries;
        MaxBytes = maxBytes;
        _shareLocked = ShareLocked;
        _managedInstanceLocked = ManagedInstanceLocked;
    }

    public int MaxEntries { get; }

    public long MaxBytes { get; }

    public int Count => _byId.Count;

    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Raised (outside the lock) for every entry that leaves the index.</summary>
    public event Action<CacheEntry, EvictionReason>? Evicted;

    public bool TryGet(CacheKey id, out CacheEntry entry) => _byId.TryGetValue(id, out entry!);

    public CacheEntry? GetByToken(string token)
    {
        lock (_lock)
        {
            return _byToken.GetValueOrDefault(token);
        }
    }

    public CacheEntry? GetByLease(string lease)
    {
        lock (_lock)
        {
            return _byLease.GetValueOrDefault(lease);
        }
    }

    /// <summary>True when <paramref name="token"/> is one the cache manages (cached from a login/create, or auto-auth).</summary>
    public bool IsManagedToken(string? token)
    {
        if (token is null)
        {
            return false;
        }

        lock (_lock)
        {
            return _byToken.ContainsKey(token);
        }
    }

    public IReadOnlyList<CacheEntry> Snapshot() => [.. _byId.Values];

    public CacheAddResult TryAdd(CacheEntry entry)
    {
        lock (_lock)
        {
            if (_byId.ContainsKey(entry.Id)
                || (entry.Token is not null && _byToken.ContainsKey(entry.Token))
                || (entry.Lease is not null && _byLease.ContainsKey(entry.Lease)))
            {
                return CacheAddResult.Duplicate;
            }

            // The auto-auth token carries no response and must always register, or leases under it are never cached.
            if (entry.Kind != CacheEntryKind.AutoAuthToken && (_byId.Count >= MaxEntries || _bytes + entry.Size > MaxBytes))
            {
                return CacheAddResult.Full;
            }

            // A child whose parent left the index meanwhile would be orphaned in the index: refuse it.
            if ((entry.TokenParent is not null && !_byToken.ContainsKey(entry.TokenParent))
                || (entry.LeaseToken is not null && !_byToken.ContainsKey(entry.LeaseToken)))
            {
                return CacheAddResult.Duplicate;
            }

            entry.UseShared(_shareLocked, _managedInstanceLocked);
            _byId[entry.Id] = entry;
            if (entry.Token is not null)
            {
                _byToken[entry.Token] = entry;
            }

            if (entry.TokenAccessor is not null)
            {
                _byAccessor[entry.TokenAccessor] = entry;
            }

            if (entry.Lease is not null)
            {
                _byLease[entry.Lease] = entry;
            }

            AddTo(_byLeaseToken, entry.LeaseToken, entry);
            AddTo(_byTokenParent, entry.TokenParent, entry);
            AddTo(_bySecret, entry.Static?.SecretId, entry);
            _bytes += entry.Size;
            return CacheAddResult.Added;
        }
    }

    /// <summary>Evicts the entry and, for a token, its whole subtree (child tokens and leases, recursively).</summary>
    public int Evict(CacheEntry entry, EvictionReason reason) => Notify(EvictLocked(entry, reason));

    public int EvictToken(string token, EvictionReason reason)
    {
        List<(CacheEntry, EvictionReason)> evicted;
        lock (_lock)
        {
            if (!_byToken.TryGetValue(token, out var entry))
            {
                return 0;
            }

            evicted = SubtreeLocked(entry, reason);
        }

        return Notify(evicted);
    }

    public int EvictAccessor(string accessor, EvictionReason reason)
    {
        List<(CacheEntry, EvictionReason)> evicted;
        lock (_lock)
        {
            if (!_byAccessor.TryGetValue(accessor, out var entry))
            {
                return 0;
            }

            evicted = SubtreeLocked(entry, reason);
        }

        return Notify(evicted);
    }

    public int EvictLease(string lease, EvictionReason reason)
    {
        List<(CacheEntry, EvictionReason)> evicted;
        lock (_lock)
        {
            if (!_byLease.TryGetValue(lease, out var entry))
            {
                return 0;
            }

            evicted = SubtreeLocked(entry, reason);
        }

        return Notify(evicted);
    }

    /// <summary>Leases whose id starts with <paramref name="prefix"/> (and, when given, in that namespace).</summary>
    public int EvictLeasePrefix(string prefix, string? @namespace, EvictionReason reason)
    {
        List<(CacheEntry, EvictionReason)> evicted = [];
        lock (_lock)
        {
            foreach (var entry in _byLease.Values.Where(e => e.Lease!.StartsWith(prefix, StringComparison.Ordinal)
                && (@namespace is null || SameNamespace(e.Namespace, @namespace))).ToList())
            {
                evicted.AddRange(SubtreeLocked(entry, reason));
            }
        }

        return Notify(evicted);
    }

    /// <summary>Entries whose request path starts with <paramref name="pathPrefix"/> in exactly that namespace (as Vault).</summary>
    public int EvictRequestPath(string pathPrefix, string @namespace, EvictionReason reason)
    {
        List<(CacheEntry, EvictionReason)> evicted = [];
        lock (_lock)
        {
            foreach (var entry in _byId.Values.Where(e => e.Kind != CacheEntryKind.AutoAuthToken
                && e.Namespace == @namespace && e.RequestPath.StartsWith(pathPrefix, StringComparison.Ordinal)).ToList())
            {
                if (!entry.Evicted && _byId.ContainsKey(entry.Id))
                {
                    evicted.AddRange(SubtreeLocked(entry, reason));
                }
            }
        }

        return Notify(evicted);
    }

    /// <summary>The static-secret entries of one secret (every version read), by <see cref="Static.StaticSecretInfo.SecretId"/>.</summary>
    public IReadOnlyList<CacheEntry> GetSecret(string secretId)
    {
        lock (_lock)
        {
            return _bySecret.TryGetValue(secretId, out var set) ? [.. set] : [];
        }
    }

    /// <summary>Evicts every cached version of one static secret.</summary>
    public int EvictSecret(string secretId, EvictionReason reason)
    {
        List<(CacheEntry, EvictionReason)> evicted = [];
        lock (_lock)
        {
            if (_bySecret.TryGetValue(secretId, out var set))
            {
                foreach (var entry in set.ToList())
                {
                    evicted.AddRange(SubtreeLocked(entry, reason));
                }
            }
        }

        return Notify(evicted);
    }

    /// <summary>Evicts every static-secret entry whose secret id starts with <paramref name="prefix"/> (a whole mount).</summary>
    public int EvictSecretPrefix(string prefix, EvictionReason reason)
    {
        List<(CacheEntry, EvictionReason)> evicted = [];
        lock (_lock)
        {
            foreach (var (id, set) in _bySecret.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList())
            {
                foreach (var entry in set.ToList())
                {
                    evicted.AddRange(SubtreeLocked(entry, reason));
                }
            }
        }

        return Notify(evicted);
    }

    /// <summary>
    /// Puts <paramref name="replacement"/> (same id, fresher answer) where <paramref name="current"/> is. False when
    /// <paramref name="current"/> has left meanwhile or the new size breaks <c>max_bytes</c>; nothing changes then.
    /// The replaced entry is marked evicted without an <see cref="Evicted"/> event: the secret is still cached.
    /// </summary>
    public bool TryReplace(CacheEntry current, CacheEntry replacement)
    {
        lock (_lock)
        {
            if (current.Id != replacement.Id || !_byId.TryGetValue(current.Id, out var present) || !ReferenceEquals(present, current)
                || _bytes - current.Size + replacement.Size > MaxBytes)
            {
                return false;
            }

            replacement.UseShared(_shareLocked, _managedInstanceLocked);
            _byId[current.Id] = replacement;
            RemoveFrom(_bySecret, current.Static?.SecretId, current);
            AddTo(_bySecret, replacement.Static?.SecretId, replacement);
            _bytes += replacement.Size - current.Size;
            current.MarkEvicted();
            return true;
        }
    }

    /// <summary>
    /// revoke-orphan: Vault revokes the token and its leases but keeps its children, which become orphans. The
    /// token's entry and its leases leave; the child tokens stay, their parent link cleared.
    /// </summary>
    public int EvictOrphaning(string token, EvictionReason reason)
    {
        List<(CacheEntry, EvictionReason)> evicted = [];
        lock (_lock)
        {
            if (_byTokenParent.Remove(token, out var children))
            {
                foreach (var child in children)
                {
                    child.TokenParent = null;
                }
            }

            if (_byLeaseToken.TryGetValue(token, out var leases))
            {
                foreach (var lease in leases.ToList())
                {
                    evicted.AddRange(SubtreeLocked(lease, reason));
                }
            }

            if (_byToken.TryGetValue(token, out var entry))
            {
                evicted.AddRange(SubtreeLocked(entry, reason));
            }
        }

        return Notify(evicted);
    }

    public int Clear(EvictionReason reason)
    {
        List<(CacheEntry, EvictionReason)> evicted;
        lock (_lock)
        {
            evicted = [.. _byId.Values.Select(e => (e, reason))];
            foreach (var (entry, _) in evicted)
            {
                entry.MarkEvicted();
            }

            _byId.Clear();
            _byToken.Clear();
            _byAccessor.Clear();
            _byLease.Clear();
            _byLeaseToken.Clear();
            _byTokenParent.Clear();
            _bySecret.Clear();
            _strings.Clear();
            _bytes = 0;
        }

        return Notify(evicted);
    }

    private List<(CacheEntry, EvictionReason)> EvictLocked(CacheEntry entry, EvictionReason reason)
    {
        lock (_lock)
        {
            return _byId.TryGetValue(entry.Id, out var current) && ReferenceEquals(current, entry) ? SubtreeLocked(entry, reason) : [];
        }
    }

    private List<(CacheEntry, EvictionReason)> SubtreeLocked(CacheEntry root, EvictionReason reason)
    {
        var result = new List<(CacheEntry, EvictionReason)>();
        var pending = new Stack<(CacheEntry Entry, EvictionReason Reason)>();
        pending.Push((root, reason));
        while (pending.TryPop(out var item))
        {
            var entry = item.Entry;
            if (!RemoveLocked(entry))
            {
                continue;
            }

            result.Add(item);
            if (entry.Token is not null)
            {
                if (_byTokenParent.Remove(entry.Token, out var children))
                {
                    foreach (var child in children)
                    {
                        pending.Push((child, EvictionReason.ParentGone));
                    }
                }

                if (_byLeaseToken.Remove(entry.Token, out var leases))
                {
                    foreach (var lease in leases)
                    {
                        pending.Push((lease, EvictionReason.ParentGone));
                    }
                }
            }
        }

        return result;
    }

    private bool RemoveLocked(CacheEntry entry)
    {
        if (!_byId.TryGetValue(entry.Id, out var current) || !ReferenceEquals(current, entry))
        {
            return false;
        }

        _byId.TryRemove(entry.Id, out _);
        if (entry.Token is not null && _byToken.TryGetValue(entry.Token, out var t) && ReferenceEquals(t, entry))
        {
            _byToken.Remove(entry.Token);
        }

        if (entry.TokenAccessor is not null && _byAccessor.TryGetValue(entry.TokenAccessor, out var a) && ReferenceEquals(a, entry))
        {
            _byAccessor.Remove(entry.TokenAccessor);
        }

        if (entry.Lease is not null && _byLease.TryGetValue(entry.Lease, out var l) && ReferenceEquals(l, entry))
        {
            _byLease.Remove(entry.Lease);
        }

        RemoveFrom(_byLeaseToken, entry.LeaseToken, entry);
        RemoveFrom(_byTokenParent, entry.TokenParent, entry);
        RemoveFrom(_bySecret, entry.Static?.SecretId, entry);
        _bytes -= entry.Size;
        entry.MarkEvicted();
        return true;
    }

    private int Notify(List<(CacheEntry Entry, EvictionReason Reason)> evicted)
    {
        var handler = Evicted;
        if (handler is not null)
        {
            foreach (var (entry, reason) in evicted)
            {
                handler(entry, reason);
            }
        }

        return evicted.Count;
    }

    private string ShareLocked(string value)
    {
        if (_strings.TryGetValue(value, out var shared))
        {
            return shared;
        }

        if (value.Length <= MaxSharedStringLength && _strings.Count < SharedStringCapacity)
        {
            _strings.Add(value, value);
        }

        return value;
    }

    /// <summary>The instance the token's own entry holds, when the cache manages it; otherwise the token as given.</summary>
    private string? ManagedInstanceLocked(string? token) =>
        token is not null && _byToken.TryGetValue(token, out var owner) ? owner.Token : token;

    private static bool SameNamespace(string a, string b) => a.Trim('/') == b.Trim('/') || (IsRoot(a) && IsRoot(b));

    private static bool IsRoot(string ns) => ns.Trim('/') is "" or "root";

    private static void AddTo(Dictionary<string, HashSet<CacheEntry>> index, string? key, CacheEntry entry)
    {
        if (key is null)
        {
            return;
        }

        if (!index.TryGetValue(key, out var set))
        {
            index[key] = set = [];
        }

        set.Add(entry);
    }

    private static void RemoveFrom(Dictionary<string, HashSet<CacheEntry>> index, string? key, CacheEntry entry)
    {
        if (key is not null && index.TryGetValue(key, out var set) && set.Remove(entry) && set.Count == 0)
        {
            index.Remove(key);
        }
    }
}
