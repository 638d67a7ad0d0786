using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Gatehouse.Cache.Static;

/// <summary>One path a token may be served from the static cache: the KV read path in its namespace.</summary>
internal readonly record struct GrantPath(string Namespace, string ReadPath);

/// <summary>
/// Who may be served a cached static secret. A token gains a grant on a read path only by reading it successfully from
/// Vault through Gatehouse; it keeps the grant while <c>sys/capabilities-self</c> still lists <c>read</c> (or
/// <c>root</c>) for the path at each refresh, until its <c>expire_time</c>, and until a revocation of it is seen.
/// Hits read a token's grants without a lock (an immutable set swapped on change).
/// </summary>
internal sealed class TokenGrants
{
    private readonly ConcurrentDictionary<string, TokenRecord> _tokens = new(StringComparer.Ordinal);

    public int TokenCount => _tokens.Count;

    /// <summary>True when <paramref name="token"/> holds a live grant on <paramref name="path"/> at <paramref name="now"/>.</summary>
    public bool CanRead(string token, GrantPath path, DateTimeOffset now)
    {
        if (!_tokens.TryGetValue(token, out var record))
        {
            return false;
        }

        if (record.ExpiresAt is { } expires && now >= expires)
        {
            Drop(token);
            return false;
        }

        return record.Paths.Contains(path);
    }

    /// <summary>Records a successful read from Vault. True when the token was not known before (look it up).</summary>
    public bool Grant(string token, GrantPath path)
    {
        var isNew = false;
        var record = _tokens.GetOrAdd(token, t =>
        {
            isNew = true;
            return new TokenRecord(t);
        });
        record.Add(path);
        return isNew;
    }

    public void Revoke(string token, GrantPath path)
    {
        if (_tokens.TryGetValue(token, out var record))
        {
            record.Remove(path);
        }
    }

    public bool Drop(string token) => _tokens.TryRemove(token, out _);

    /// <summary>The token's record (grants, accessor, expiry), or null.</summary>
    public TokenRecord? Get(string token) => _tokens.TryGetValue(token, out var record) ? record : null;

    public int DropAccessor(string accessor)
    {
        var dropped = 0;
        foreach (var record in _tokens.Values)
        {
            if (record.Accessor == accessor && Drop(record.Token))
            {
                dropped++;
            }
        }

        return dropped;
    }

    /// <summary>What <c>auth/token/lookup-self</c> said: the accessor (for revoke-accessor) and when the token expires.</summary>
    public void Describe(string token, string? accessor, DateTimeOffset? expiresAt)
    {
        if (_tokens.TryGetValue(token, out var record))
        {
            record.Accessor = accessor;
            record.ExpiresAt = expiresAt;
        }
    }

    public IReadOnlyList<TokenRecord> Snapshot() => [.. _tokens.Values];

    /// <summary>Tokens holding a live grant on <paramref name="path"/>, <paramref name="preferred"/> first when it is one.</summary>
    public IEnumerable<string> ReadersOf(GrantPath path, DateTimeOffset now, string? preferred)
    {
        if (preferred is not null && CanRead(preferred, path, now))
        {
            yield return preferred;
        }

        foreach (var record in _tokens.Values)
        {
            if (record.Token != preferred && (record.ExpiresAt is not { } e || now < e) && record.Paths.Contains(path))
            {
                yield return record.Token;
            }
        }
    }

    public void Clear() => _tokens.Clear();

    internal sealed class TokenRecord(string token)
    {
        private ImmutableHashSet<GrantPath> _paths = [];

        public string Token { get; } = token;

        public string? Accessor { get; set; }

        public DateTimeOffset? ExpiresAt { get; set; }

        public ImmutableHashSet<GrantPath> Paths => Volatile.Read(ref _paths);

        public void Add(GrantPath path) => ImmutableInterlocked.Update(ref _paths, static (set, p) => set.Add(p), path);

        public void Remove(GrantPath path) => ImmutableInterlocked.Update(ref _paths, static (set, p) => set.Remove(p), path);

        /// <summary>Never the token: this can reach a log line.</summary>
        public override string ToString() => $"token (accessor {Accessor ?? "unknown"}) with {Paths.Count} paths";
    }
}
