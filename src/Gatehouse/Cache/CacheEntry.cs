namespace Gatehouse.Cache;

internal enum CacheEntryKind
{
    /// <summary>A leased secret (<c>lease_id</c>), renewed through <c>sys/leases/renew</c>.</summary>
    Lease,

    /// <summary>A token from a login or token create (<c>auth</c>), renewed through <c>auth/token/renew-self</c>.</summary>
    Token,

    /// <summary>The registered auto-auth token: managed (leases under it are cached) but renewed by auto-auth, not by us.</summary>
    AutoAuthToken,

    /// <summary>
    /// A static KV secret (<see cref="Static.StaticSecretCache"/>): keyed without a token, never renewed, kept fresh by
    /// revalidation and Vault's event stream, served only to tokens with a read grant on its path.
    /// </summary>
    StaticSecret,
}

/// <summary>When an entry's TTL was last known: the base time and the TTL Vault gave at that time.</summary>
internal sealed record CacheLifetime(DateTimeOffset Since, long TtlSeconds)
{
    /// <summary>No lifetime known yet (an entry's initial value, shared).</summary>
    public static readonly CacheLifetime None = new(DateTimeOffset.MinValue, 0);

    public DateTimeOffset ExpiresAt => Since.AddSeconds(TtlSeconds);

    public long RemainingSeconds(DateTimeOffset now) => Math.Max(0, TtlSeconds - (long)Math.Floor((now - Since).TotalSeconds));
}

/// <summary>One cached token or lease, with its secondary-index fields. Index fields never change after insertion
/// except <see cref="TokenParent"/> (cleared by revoke-orphan, under the index lock).</summary>
internal sealed class CacheEntry
{
    // Backing fields, so the index can swap in shared instances (UseShared) before insertion.
    private string _namespace = "root/";
    private string _requestPath = "";
    private string _requestMethod = "GET";
    private string? _requestToken;
    private string? _leaseToken;

    public required CacheKey Id { get; init; }

    public required CacheEntryKind Kind { get; init; }

    /// <summary>The answer to replay; null for the auto-auth token.</summary>
    public CachedResponse? Response { get; init; }

    /// <summary>The raw X-Vault-Namespace of the request, or <c>root/</c>.</summary>
    public required string Namespace { get => _namespace; init => _namespace = value; }

    /// <summary>The request path as received, including <c>/v1</c>.</summary>
    public required string RequestPath { get => _requestPath; init => _requestPath = value; }

    public string RequestMethod { get => _requestMethod; init => _requestMethod = value; }

    /// <summary>The token the request was made with.</summary>
    public string? RequestToken { get => _requestToken; init => _requestToken = value; }

    /// <summary>For token entries: the token itself (<c>auth.client_token</c>).</summary>
    public string? Token { get; init; }

    public string? TokenAccessor { get; init; }

    /// <summary>For lease entries: the lease id.</summary>
    public string? Lease { get; init; }

    /// <summary>For lease entries: the token that owns the lease (the request token).</summary>
    public string? LeaseToken { get => _leaseToken; init => _leaseToken = value; }

    /// <summary>For non-orphan token entries: the parent token (the request token).</summary>
    public string? TokenParent { get; set; }

    /// <summary>For static secrets: what the secret is and which version was read.</summary>
    public Static.StaticSecretInfo? Static { get; init; }

    /// <summary>When the answer was fetched from Vault (the Age header counts from here).</summary>
    public DateTimeOffset FetchedAt { get; init; }

    /// <summary>The TTL Vault gave first; the renewal grace is a tenth of it.</summary>
    public long OriginalTtlSeconds { get; init; }

    private CacheLifetime _lifetime = CacheLifetime.None;

    /// <summary>Replaced after each renewal; read lock-free by hits.</summary>
    public CacheLifetime Lifetime
    {
        get => Volatile.Read(ref _lifetime);
        set => Volatile.Write(ref _lifetime, value);
    }

    public long Size => (Response?.Size ?? 0) + 256;

    /// <summary>
    /// False for static secrets: the persistent cache never holds them (a token's read grant lives in memory only, so a
    /// restored secret could be served to nobody; see docs/lease-cache.md).
    /// </summary>
    public bool Persists => Kind != CacheEntryKind.StaticSecret;

    /// <summary>Set once, when the entry leaves the index.</summary>
    public bool Evicted => Volatile.Read(ref _evicted) != 0;

    private int _evicted;

    internal bool MarkEvicted() => Interlocked.Exchange(ref _evicted, 1) == 0;

    /// <summary>
    /// Shared cache: the entry's name in Redis (an HMAC of its key), set when it was written there or read from there;
    /// null for an entry only this replica holds.
    /// </summary>
    internal string? SharedName;

    /// <summary>
    /// Shared cache: the subscription generation this copy was last known good in; a copy from an older generation (the
    /// pub/sub link dropped since) is re-checked against Redis before it is served.
    /// </summary>
    internal int SharedGeneration;

    /// <summary>Shared cache: the fleet's cache-clear epoch the entry was written in; an older one was cleared.</summary>
    internal long SharedEpoch;

    // Renewer bookkeeping (guarded by the renewer's lock).
    internal long ScheduleVersion;
    internal int RenewalFailures;

    /// <summary>
    /// Replaces this entry's strings by equal instances held elsewhere: the namespace, path and method other entries
    /// share, and the request, lease-owner and parent tokens as the parent's own entry holds them, so 10,000 children
    /// of one token hold one copy of it. Called by the index under its lock, before the entry is inserted.
    /// </summary>
    internal void UseShared(Func<string, string> shared, Func<string?, string?> managedToken)
    {
        _namespace = shared(_namespace);
        _requestPath = shared(_requestPath);
        _requestMethod = shared(_requestMethod);
        _requestToken = managedToken(_requestToken);
        _leaseToken = managedToken(_leaseToken);
        TokenParent = managedToken(TokenParent);
    }

    /// <summary>Never the token itself: this can reach a log line.</summary>
    public override string ToString() => $"{Kind} {Id} {RequestMethod} {RequestPath} (accessor {TokenAccessor ?? "-"})";
}
