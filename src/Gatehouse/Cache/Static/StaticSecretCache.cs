using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Gatehouse.ApiProxy;
using Gatehouse.AutoAuth;
using Gatehouse.Telemetry;
using Gatehouse.Vault;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Cache.Static;

/// <summary>What the static-secret cache is told by the <c>cache</c> stanza.</summary>
/// <param name="CapabilityRefresh"><c>static_secret_token_capability_refresh_interval</c>.</param>
/// <param name="Optimistic"><c>static_secret_token_capability_refresh_behavior = "optimistic"</c>: keep grants when Vault cannot be asked.</param>
/// <param name="RefreshInterval"><c>static_secret_refresh_interval</c>; zero: no polling (events only).</param>
internal sealed record StaticCacheOptions(TimeSpan CapabilityRefresh, bool Optimistic, TimeSpan RefreshInterval);

/// <summary>
/// The static-secret cache: an <see cref="IVaultProxier"/> decorator in front of the <see cref="LeaseCache"/>. It
/// keeps successful KV v1/v2 reads keyed by namespace, mount, path and version (not by token) in the lease cache's
/// <see cref="CacheIndex"/> (so one set of bounds holds both), and serves one only to a token that has itself read
/// the path from Vault and still holds <c>read</c> on it (<see cref="TokenGrants"/>). Writes through the proxy evict
/// at once; the background passes in <c>StaticSecretCache.Refresh.cs</c> revalidate entries and re-check grants.
/// </summary>
internal sealed partial class StaticSecretCache : IVaultProxier, IKvChangeListener
{
    /// <summary>Secrets larger than this are not read whole, so not cached.</summary>
    public const long MaxSecretAnswer = 1024 * 1024;

    /// <summary>How long a learned mount (KV or not) is trusted before a miss asks <c>sys/internal/ui/mounts</c> again.</summary>
    public static readonly TimeSpan MountTtl = TimeSpan.FromMinutes(5);

    /// <summary>Paths no KV engine can be mounted at: their reads are never looked at.</summary>
    private static readonly string[] ReservedPrefixes = ["sys/", "auth/", "identity/", "cubbyhole/"];

    /// <summary>Most path-embedded namespace segments a write is matched through (<c>/v1/ns1/ns2/secret/...</c>).</summary>
    private const int MaxEmbeddedNamespaceDepth = 4;

    /// <summary>At most this many read shapes are remembered; past it the memo starts again (it never grows with traffic).</summary>
    private const int MaxShapes = 10_000;

    /// <summary>Write epochs are striped: a fill stores only when no write touched its stripe meanwhile (bounded memory).</summary>
    private const int EpochStripes = 1024;

    private readonly IVaultProxier _inner;
    private readonly LeaseCache _leaseCache;
    private readonly VaultClient _vault;
    private readonly TimeProvider _time;
    private readonly GatehouseMetrics _metrics;
    private readonly ILogger _logger;
    private readonly TokenStore? _tokens;
    private readonly long[] _epochs = new long[EpochStripes];
    private readonly ConcurrentDictionary<CacheKey, TaskCompletionSource> _inFlight = new();

    /// <summary>Read shapes resolved under known KV mounts (<see cref="Resolve"/>); cleared when the mount table changes.</summary>
    private readonly ConcurrentDictionary<ShapeKey, ReadShape> _shapes = new();

    /// <summary>Paths whose mount lookup failed, until when (so an uncacheable mount costs one lookup per <see cref="MountTtl"/>).</summary>
    private readonly ConcurrentDictionary<string, DateTimeOffset> _unknownMounts = new(StringComparer.Ordinal);
    private long _globalEpoch;

    public StaticSecretCache(
        IVaultProxier inner, LeaseCache leaseCache, VaultClient vault, StaticCacheOptions options, TimeProvider time,
        GatehouseMetrics metrics, ILogger logger, TokenStore? tokens = null)
    {
        _inner = inner;
        _leaseCache = leaseCache;
        _vault = vault;
        Options = options;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        _tokens = tokens;
        Mounts = new KvMounts(time, MountTtl);
        leaseCache.Index.Evicted += OnEvicted;
    }

    public StaticCacheOptions Options { get; }

    public KvMounts Mounts { get; }

    public TokenGrants Grants { get; } = new();

    /// <summary>The fleet's static secrets (<c>cache { shared "redis" }</c>), or null: this replica's cache is its own.</summary>
    public SharedStaticSecrets? Shared { get; set; }

    internal CacheIndex Index => _leaseCache.Index;

    public async ValueTask<ProxyResult> SendAsync(ProxyRequest request, CancellationToken cancellationToken)
    {
        var http = request.Context.Request;
        if (!HttpMethods.IsGet(http.Method))
        {
            return IsReadOnly(http.Method)
                ? await _inner.SendAsync(request, cancellationToken).ConfigureAwait(false)
                : await WriteAsync(request, cancellationToken).ConfigureAwait(false);
        }

        if (request.Token is not { } token || !IsPlainRead(request.Context, out var shapeKey))
        {
            return await _inner.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        // Step map: 1. the read's shape (namespace, path, query) names a secret under a known KV mount: its key and
        // grant path, resolved once and remembered; a token with a grant is served a hit (a fleet copy from before the
        // link to Redis dropped is re-checked first); 2. shared cache: one round trip takes the token's fleet grant and
        // the fleet's copy, then a hit is served; 3. a token with a grant waits for a fill in flight and then is
        // served; 4. otherwise forward, buffered; 5. a 403 takes the grant away, a 404 evicts (fleet-wide); 6. a
        // qualifying 200 is stored (learning the mount first when unknown), grants the token the path, and both are
        // written for the fleet.
        var now = _time.GetUtcNow();
        if (!_shapes.TryGetValue(shapeKey, out var shape))
        {
            shape = Resolve(shapeKey);
        }

        if (shape.Candidate is { Mount: null } unknown && Shared is { IsUp: true } mounts
            && await mounts.LoadMountsAsync(unknown.Namespace, Mounts, cancellationToken).ConfigureAwait(false) > 0)
        {
            // The fleet knows mounts this replica does not: the read may name a secret the fleet holds.
            _shapes.Clear();
            shape = Resolve(shapeKey);
        }

        if (shape.Candidate is not { } candidate)
        {
            return await _inner.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var info = shape.Info;
        CacheKey? key = info is null ? null : shape.Key;
        var granted = info is not null && Grants.CanRead(token, shape.Grant, now);
        if (granted && Shared is { } checking && checking.NeedsCheck(key!.Value)
            && !await checking.RecheckAsync(key.Value, info!, cancellationToken).ConfigureAwait(false))
        {
            EvictKey(key.Value);
        }

        if (granted && TryHit(key!.Value, now) is { } hit)
        {
            return Served(request, hit);
        }

        StaticLookup? seen = null;
        if (info is not null && Shared is { IsUp: true } fleet)
        {
            var stripeEpoch = Interlocked.Read(ref _epochs[StripeOf(info.SecretId)]);
            seen = await fleet.LookupAsync(token, info, key!.Value, cancellationToken).ConfigureAwait(false);
            if (seen is not null && Adopt(fleet, token, info, key.Value, seen, stripeEpoch, now))
            {
                granted = true;
                if (TryHit(key.Value, now) is { } fleetHit)
                {
                    return Served(request, fleetHit);
                }
            }
        }

        TaskCompletionSource? mine = null;
        if (key is { } k)
        {
            mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var first = _inFlight.GetOrAdd(k, mine);
            if (!ReferenceEquals(first, mine))
            {
                mine = null;
                if (granted)
                {
                    _metrics.CacheInFlightWait();
                    await first.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                    if (TryHit(k, _time.GetUtcNow()) is { } waited)
                    {
                        return Served(request, waited);
                    }
                }
            }
        }

        try
        {
            return await FillAsync(request, token, candidate, info, seen, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (mine is not null)
            {
                _inFlight.TryRemove(new KeyValuePair<CacheKey, TaskCompletionSource>(key!.Value, mine));
                mine.TrySetResult();
            }
        }
    }

    /// <summary>A hit for the key, or null (benchmarks and tests call it directly).</summary>
    internal ProxyResult? TryHit(CacheKey key, DateTimeOffset now)
    {
        if (!Index.TryGet(key, out var entry) || entry.Kind != CacheEntryKind.StaticSecret || entry.Response is not { } stored)
        {
            return null;
        }

        var age = Math.Max(0, (long)Math.Round((now - entry.FetchedAt).TotalSeconds));
        return ProxyResult.Buffered(stored.HitResponse(_leaseCache.Clock(now), age, entry.OriginalTtlSeconds));
    }

    /// <summary>The index key of one read of a secret: no token, and a method no client request has, so lease entries never collide.</summary>
    internal static CacheKey KeyOf(StaticSecretInfo info) =>
        CacheKey.Compute(new CacheRequest("STATIC", "/v1/" + info.ReadPath, info.Query, info.Namespace, token: null, default));

    internal static GrantPath GrantOf(StaticSecretInfo info) => new(info.Namespace, info.ReadPath);

    private static ProxyResult Served(ProxyRequest request, ProxyResult hit)
    {
        request.ServedFromCache = true;
        request.CacheKind = "static";
        return hit;
    }

    /// <summary>
    /// Takes what the fleet holds for a local miss: the token's grant when Vault confirmed it within the capability
    /// refresh interval, and then the secret's copy (unless a write to it was applied here since the lookup began).
    /// True when the token holds a grant now.
    /// </summary>
    private bool Adopt(SharedStaticSecrets fleet, string token, StaticSecretInfo info, CacheKey key, StaticLookup seen, long stripeEpoch, DateTimeOffset now)
    {
        var path = GrantOf(info);
        var granted = Grants.CanRead(token, path, now);
        if (!granted && seen.Grant is { } grant && SharedStaticSecrets.IsFresh(grant, Options.CapabilityRefresh, now))
        {
            if (Grants.Grant(token, path))
            {
                Grants.Describe(token, grant.Accessor, grant.ExpiresAt);
            }

            granted = true;
        }

        if (granted && seen.Secret is { } secret && !(Index.TryGet(key, out var present) && present.Kind == CacheEntryKind.StaticSecret)
            && Interlocked.Read(ref _epochs[StripeOf(info.SecretId)]) == stripeEpoch
            && _leaseCache.Add(NewEntry(key, secret.Info, secret.Response, secret.LeaseDuration, secret.FetchedAt)))
        {
            fleet.Remember(key, secret);
            fleet.LogImported(secret.Info);
        }

        return granted;
    }

    private async ValueTask<ProxyResult> FillAsync(
        ProxyRequest request, string token, ReadCandidateInfo candidate, StaticSecretInfo? info, StaticLookup? seen, CancellationToken cancellationToken)
    {
        var stripe = info is null ? -1 : StripeOf(info.SecretId);
        var epoch = stripe < 0 ? Interlocked.Read(ref _globalEpoch) : Interlocked.Read(ref _epochs[stripe]);
        request.BufferJsonUpTo = Math.Max(request.BufferJsonUpTo, MaxSecretAnswer);
        var result = await _inner.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (result.Outcome == ProxyOutcome.Failed)
        {
            return result;
        }

        if (info is not null && result.StatusCode == StatusCodes.Status403Forbidden)
        {
            // Told to the fleet only when a grant was held here or there (a token that never could read costs no message).
            var held = Grants.CanRead(token, GrantOf(info), _time.GetUtcNow()) || seen?.Grant is not null;
            Grants.Revoke(token, GrantOf(info));
            if (held)
            {
                Shared?.GrantRevoked(token, GrantOf(info));
            }

            return result;
        }

        if (info is not null && result.StatusCode == StatusCodes.Status404NotFound)
        {
            if (EvictKey(KeyOf(info)) || seen?.Secret is not null)
            {
                _ = Shared?.InvalidateAsync([info.SecretId], CancellationToken.None);
            }

            return result;
        }

        if (result.StatusCode != StatusCodes.Status200OK || result.Response is not { } response || Qualify(response.Body.Span) is not { } read)
        {
            return result;
        }

        if (info is null)
        {
            info = await LearnAsync(candidate, token, cancellationToken).ConfigureAwait(false);
            if (info is null)
            {
                return result;
            }
        }

        if ((info.KvVersion == 2) != read.IsV2)
        {
            return result;
        }

        // A write through the proxy while this read was on its way may have changed the secret after Vault answered.
        var unchanged = stripe < 0 ? Interlocked.Read(ref _globalEpoch) == epoch : Interlocked.Read(ref _epochs[stripe]) == epoch;
        if (!unchanged)
        {
            return result;
        }

        var stored = Store(info with { Version = read.Version, DeletionTime = read.DeletionTime, Destroyed = read.Destroyed, CustomMetadata = read.CustomMetadata }, response, read.LeaseDuration);
        if (Grants.Grant(token, GrantOf(info)))
        {
            await DescribeAsync(token, cancellationToken).ConfigureAwait(false);
        }

        if (Shared is { } fleet)
        {
            if (stored is not null)
            {
                fleet.Publish(stored, seen);
            }

            if (Grants.Get(token) is { } record && record.Paths.Contains(GrantOf(info)))
            {
                fleet.PublishGrants(token, [GrantOf(info)], record.Accessor, record.ExpiresAt, Options.CapabilityRefresh);
            }
        }

        return result;
    }

    /// <summary>Stores (or refreshes) the answer for one read of a secret; the entry now in the index, or null.</summary>
    private CacheEntry? Store(StaticSecretInfo info, BufferedResponse response, long leaseDuration)
    {
        var key = KeyOf(info);
        var entry = NewEntry(key, info, new CachedResponse(response.StatusCode, response.Headers, response.Body.ToArray(), authTtl: false), leaseDuration);
        if (Index.TryGet(key, out var existing) && existing.Kind == CacheEntryKind.StaticSecret)
        {
            if (!Index.TryReplace(existing, entry))
            {
                Index.Evict(existing, EvictionReason.Expired);
                return null;
            }

            return entry;
        }

        if (_leaseCache.Add(entry))
        {
            Log.Cached(_logger, info.Namespace, info.ReadPath, info.Version);
            return entry;
        }

        return null;
    }

    private CacheEntry NewEntry(CacheKey key, StaticSecretInfo info, CachedResponse response, long leaseDuration, DateTimeOffset? fetchedAt = null)
    {
        var now = _time.GetUtcNow();
        return new CacheEntry
        {
            Id = key,
            Kind = CacheEntryKind.StaticSecret,
            Response = response,
            Static = info,
            Namespace = info.Namespace.Length == 0 ? "root/" : info.Namespace,
            RequestPath = "/v1/" + info.ReadPath,
            RequestMethod = "GET",
            FetchedAt = fetchedAt is { } at && at < now ? at : now,
            OriginalTtlSeconds = leaseDuration,
            Lifetime = new CacheLifetime(now, leaseDuration),
        };
    }

    private bool EvictKey(CacheKey key) =>
        Index.TryGet(key, out var entry) && entry.Kind == CacheEntryKind.StaticSecret && Index.Evict(entry, EvictionReason.Revoked) > 0;

    /// <summary>
    /// Asks <c>sys/internal/ui/mounts/&lt;path&gt;</c> (with the token that just read the path) which mount serves
    /// it, learns the answer (KV or not), and names the secret; null when it is not KV or cannot be learned now.
    /// </summary>
    private async Task<StaticSecretInfo?> LearnAsync(ReadCandidateInfo candidate, string token, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var unknownKey = candidate.Namespace + "\n" + candidate.ApiPath;
        if (_unknownMounts.TryGetValue(unknownKey, out var until) && now < until)
        {
            return null;
        }

        var answer = await _vault.SendRawAsync(HttpMethod.Get, "sys/internal/ui/mounts/" + candidate.ApiPath, token, null, NamespaceHeader(candidate.Namespace), cancellationToken).ConfigureAwait(false);
        if (!answer.IsSuccess || KvMounts.ParseUiMount(answer.Body) is not { } mount || !candidate.ApiPath.StartsWith(mount.Path, StringComparison.Ordinal))
        {
            if (_unknownMounts.Count >= 10_000)
            {
                _unknownMounts.Clear();
            }

            _unknownMounts[unknownKey] = now + MountTtl;
            return null;
        }

        Mounts.Learn(candidate.Namespace, mount.Path, mount.Kind);
        Shared?.PublishMount(candidate.Namespace, mount.Path, mount.Kind);
        _shapes.Clear();
        return mount.Kind == MountKind.Other
            ? null
            : KvRequests.Read(candidate.Namespace, new KnownMount(mount.Path, mount.Kind, now), candidate.ApiPath, candidate.Query);
    }

    /// <summary>
    /// A write (anything but GET, HEAD, OPTIONS and LIST): every cached secret it may change is evicted before it is
    /// sent and again after Vault answers (a read that raced it must not leave the old value), whatever Vault said.
    /// Mount-table changes forget the namespace's mounts; revocations Vault accepted drop the token's grants.
    /// </summary>
    private async ValueTask<ProxyResult> WriteAsync(ProxyRequest request, CancellationToken cancellationToken)
    {
        var targets = WriteTargets(request.Context);
        Apply(targets);
        var before = Shared?.InvalidateAsync(targets, CancellationToken.None);
        var result = await _inner.SendAsync(request, cancellationToken).ConfigureAwait(false);
        Apply(targets);
        if (Shared is { } fleet)
        {
            // Awaited (each bounded by operation_timeout): a read through another replica after this answer must not
            // find the old value in Redis, and a fill there that raced the write must find the counter moved.
            await before!.ConfigureAwait(false);
            await fleet.InvalidateAsync(targets, cancellationToken).ConfigureAwait(false);
        }

        if (result.Outcome != ProxyOutcome.Failed && result.StatusCode is >= 200 and < 300
            && Revocations.Recognise(LeaseCache.ToCacheRequest(request)) is { } revocation)
        {
            var dropped = revocation.Kind switch
            {
                RevocationKind.Token or RevocationKind.Orphan => Grants.Drop(revocation.Value) ? 1 : 0,
                RevocationKind.Accessor => Grants.DropAccessor(revocation.Value),
                _ => 0,
            };
            switch (revocation.Kind)
            {
                case RevocationKind.Token or RevocationKind.Orphan:
                    Shared?.TokenDropped(revocation.Value);
                    break;
                case RevocationKind.Accessor:
                    Shared?.AccessorDropped(revocation.Value);
                    break;
            }

            if (dropped > 0)
            {
                Log.TokenDropped(_logger, "revoked through the proxy", dropped);
            }
        }

        return result;
    }

    /// <summary>A write to a secret (or prefix) another replica saw: evicted here too, and fills in flight here do not store.</summary>
    internal void ApplyFleetWrite(string target)
    {
        if (NamespaceOfPrefix(target) is { } ns)
        {
            Mounts.ForgetNamespace(ns);
            _shapes.Clear();
        }

        Apply([target]);
    }

    /// <summary>The namespace a whole-namespace target names (<see cref="StaticSecretInfo.MountPrefix"/> with no mount), or null.</summary>
    internal static string? NamespaceOfPrefix(string target) =>
        target.EndsWith('\n') && target.IndexOf('\n', StringComparison.Ordinal) == target.Length - 1 ? target[..^1] : null;

    private void Apply(List<string> targets)
    {
        if (targets.Count == 0)
        {
            return;
        }

        Interlocked.Increment(ref _globalEpoch);
        foreach (var target in targets)
        {
            if (target.EndsWith('\n'))
            {
                // A whole mount or namespace: every stripe may hold one of its secrets.
                for (var i = 0; i < _epochs.Length; i++)
                {
                    Interlocked.Increment(ref _epochs[i]);
                }

                Index.EvictSecretPrefix(target, EvictionReason.Revoked);
            }
            else
            {
                Interlocked.Increment(ref _epochs[StripeOf(target)]);
                Index.EvictSecret(target, EvictionReason.Revoked);
            }
        }
    }

    /// <summary>
    /// The secret ids (or, ending in a newline, id prefixes of whole mounts and namespaces) a write may change. The
    /// path is percent-decoded and cleaned as Vault routes it; each split into path-embedded namespace segments and the
    /// rest is tried, so <c>/v1/ns1/secret/data/x</c> evicts what was read as <c>secret/data/x</c> in <c>ns1</c>.
    /// </summary>
    internal List<string> WriteTargets(HttpContext context)
    {
        List<string> targets = [];
        var raw = ForwardedTarget.RawPath(context);
        string decoded;
        try
        {
            decoded = Uri.UnescapeDataString(raw);
        }
        catch (UriFormatException)
        {
            decoded = raw;
        }

        var path = CachePaths.Normalize(decoded);
        if (!path.StartsWith("/v1/", StringComparison.Ordinal))
        {
            return targets;
        }

        var headerNamespace = KvRequests.NormalizeNamespace(context.Request.Headers[VaultHeaders.Namespace].ToString());
        var rest = path[4..];
        var ns = headerNamespace;
        for (var depth = 0; depth <= MaxEmbeddedNamespaceDepth; depth++)
        {
            if (KvRequests.ChangesMounts(rest))
            {
                Mounts.ForgetNamespace(ns);
                _shapes.Clear();
                targets.Add(StaticSecretInfo.MountPrefix(ns, ""));
            }
            else if (rest.StartsWith("sys/namespaces/", StringComparison.Ordinal) && rest.Length > "sys/namespaces/".Length)
            {
                targets.Add(StaticSecretInfo.MountPrefix(ns + rest["sys/namespaces/".Length..].TrimEnd('/') + "/", ""));
            }

            foreach (var mount in Mounts.KvMountsOf(ns))
            {
                if (rest.StartsWith(mount.Path, StringComparison.Ordinal) || rest + "/" == mount.Path)
                {
                    targets.Add(KvRequests.WriteTarget(ns, mount, rest) ?? StaticSecretInfo.MountPrefix(ns, mount.Path));
                }
            }

            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0)
            {
                break;
            }

            ns += rest[..(slash + 1)];
            rest = rest[(slash + 1)..];
        }

        return targets;
    }

    /// <summary>
    /// True for a GET the static cache may serve or store, with its shape for <see cref="Resolve"/>: the path exactly as
    /// sent (no percent-encoding, no <c>//</c>, <c>.</c>, <c>..</c> or trailing slash: Kestrel's <c>Request.Path</c>
    /// equals the request-target's path) under <c>/v1/</c>, and no <c>X-Vault-*</c> header but the token, namespace and
    /// request marker (wrapping, consistency and forwarding headers ask for what a stored answer cannot give).
    /// Allocates nothing for a request that qualifies.
    /// </summary>
    private static bool IsPlainRead(HttpContext context, out ShapeKey shape)
    {
        shape = default;
        var http = context.Request;
        var path = http.Path.Value;
        if (path is null || !path.StartsWith("/v1/", StringComparison.Ordinal) || !ReferenceEquals(CachePaths.Normalize(path), path)
            || http.PathBase.HasValue)
        {
            return false;
        }

        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (target is null || !target.AsSpan().StartsWith(path, StringComparison.Ordinal) || (target.Length > path.Length && target[path.Length] != '?'))
        {
            return false;
        }

        foreach (var (name, _) in http.Headers)
        {
            if (name.StartsWith(VaultHeaders.Prefix, StringComparison.OrdinalIgnoreCase)
                && !name.Equals(VaultHeaders.Token, StringComparison.OrdinalIgnoreCase)
                && !name.Equals(VaultHeaders.Namespace, StringComparison.OrdinalIgnoreCase)
                && !name.Equals(VaultHeaders.Request, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        var ns = http.Headers[VaultHeaders.Namespace];
        shape = new ShapeKey(ns.Count == 0 ? "" : ns.Count == 1 ? ns[0]! : ns.ToString(), path, http.QueryString.Value ?? "");
        return true;
    }

    /// <summary>
    /// What a read shape names: the secret, its index key and grant path when the mount is a known KV mount; only the
    /// candidate (to learn the mount after the read) when it is unknown; nothing when it cannot be a KV read. Shapes
    /// under known mounts are remembered (bounded; forgotten when mounts are learned or forgotten), so a hit computes
    /// no key and allocates nothing here.
    /// </summary>
    private ReadShape Resolve(ShapeKey shapeKey)
    {
        var query = shapeKey.Query.Length > 1 ? shapeKey.Query[1..] : null;
        var apiPath = shapeKey.Path[4..];
        if (query is not null && !query.StartsWith("version=", StringComparison.Ordinal))
        {
            return ReadShape.None;
        }

        foreach (var reserved in ReservedPrefixes)
        {
            if (apiPath.StartsWith(reserved, StringComparison.Ordinal))
            {
                return ReadShape.None;
            }
        }

        var ns = KvRequests.NormalizeNamespace(shapeKey.Namespace);
        var mount = Mounts.Find(ns, apiPath, includeExpired: true);
        if (mount is { Kind: MountKind.Other } && _time.GetUtcNow() - mount.LearnedAt < MountTtl)
        {
            return ReadShape.None;
        }

        var candidate = new ReadCandidateInfo(ns, apiPath, query, mount is { Kind: not MountKind.Other } ? mount : null);
        if (candidate.Mount is not { } kv)
        {
            return new ReadShape(candidate, null, default, default);
        }

        if (KvRequests.Read(ns, kv, apiPath, query) is not { } info)
        {
            return ReadShape.None;
        }

        var shape = new ReadShape(candidate, info, KeyOf(info), GrantOf(info));
        if (_shapes.Count >= MaxShapes)
        {
            _shapes.Clear();
        }

        _shapes[shapeKey] = shape;
        return shape;
    }

    private static bool IsReadOnly(string method) =>
        HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || method.Equals("LIST", StringComparison.OrdinalIgnoreCase);

    private static int StripeOf(string secretId) => (int)((uint)StringComparer.Ordinal.GetHashCode(secretId) % EpochStripes);

    private static string? NamespaceHeader(string ns) => ns.Length == 0 ? null : ns;

    /// <summary>
    /// What a 200 KV read says, or null when it must not be stored: not a JSON object with a <c>data</c> object, or
    /// carrying <c>wrap_info</c>, <c>auth</c>, a <c>lease_id</c> (a leased answer is the lease cache's) or warnings.
    /// </summary>
    internal static KvRead? Qualify(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object
                || IsSet(root, "wrap_info") || IsSet(root, "auth")
                || (root.TryGetProperty("lease_id", out var lease) && lease.ValueKind == JsonValueKind.String && lease.GetString()!.Length > 0)
                || (root.TryGetProperty("warnings", out var warnings) && warnings.ValueKind == JsonValueKind.Array && warnings.GetArrayLength() > 0))
            {
                return null;
            }

            var leaseDuration = root.TryGetProperty("lease_duration", out var ld) && ld.TryGetInt64(out var seconds) ? seconds : 0;
            if (data.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
                && data.TryGetProperty("data", out var inner) && inner.ValueKind is JsonValueKind.Object
                && metadata.TryGetProperty("version", out var version) && version.TryGetInt32(out var v))
            {
                return new KvRead(
                    true, v,
                    metadata.TryGetProperty("deletion_time", out var dt) && dt.ValueKind == JsonValueKind.String ? dt.GetString()! : "",
                    metadata.TryGetProperty("destroyed", out var d) && d.ValueKind == JsonValueKind.True,
                    metadata.TryGetProperty("custom_metadata", out var cm) && cm.ValueKind == JsonValueKind.Object ? cm.GetRawText() : null,
                    leaseDuration);
            }

            return new KvRead(false, 0, "", false, null, leaseDuration);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool IsSet(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);

    /// <summary>Cached tokens that leave the lease cache (revoked, expired, cleared) lose their grants with them.</summary>
    private void OnEvicted(CacheEntry entry, EvictionReason reason)
    {
        if (entry.Kind == CacheEntryKind.Token && entry.Token is { } token && Grants.Drop(token))
        {
            Log.TokenDropped(_logger, LeaseCache.ReasonName(reason), 1);
            if (reason is EvictionReason.Revoked or EvictionReason.ParentGone or EvictionReason.RenewalRefused)
            {
                // The token is gone at Vault: its fleet grants go too, so no replica takes them from Redis.
                Shared?.TokenDropped(token);
            }
        }
    }

    /// <summary>The mount, namespace and query of a GET that may be a KV read.</summary>
    private sealed record ReadCandidateInfo(string Namespace, string ApiPath, string? Query, KnownMount? Mount);

    /// <summary>A read as the client sent it: the raw <c>X-Vault-Namespace</c>, the path, and the query with its '?'.</summary>
    private readonly record struct ShapeKey(string Namespace, string Path, string Query);

    /// <summary>What a read shape resolved to (<see cref="Resolve"/>); <see cref="Candidate"/> null: not a KV read.</summary>
    private sealed record ReadShape(ReadCandidateInfo? Candidate, StaticSecretInfo? Info, CacheKey Key, GrantPath Grant)
    {
        public static readonly ReadShape None = new(null, null, default, default);
    }

    /// <summary>What a qualifying KV read says about itself.</summary>
    internal sealed record KvRead(bool IsV2, int Version, string DeletionTime, bool Destroyed, string? CustomMetadata, long LeaseDuration);

    private static partial class Log
    {
        [LoggerMessage(LogEvents.StaticSecretCacheCached, LogLevel.Debug, "Static secret cached: namespace \"{Namespace}\" path {Path} version {Version}")]
        public static partial void Cached(ILogger logger, string @namespace, string path, int version);

        [LoggerMessage(LogEvents.StaticSecretCacheEvicted, LogLevel.Debug, "Static secret evicted: namespace \"{Namespace}\" path {Path} ({Reason})")]
        public static partial void Evicted(ILogger logger, string @namespace, string path, string reason);

        [LoggerMessage(LogEvents.StaticSecretCacheGrantRevoked, LogLevel.Debug, "Static secret grant withdrawn: token (accessor {Accessor}) on namespace \"{Namespace}\" path {Path} ({Reason})")]
        public static partial void GrantRevoked(ILogger logger, string accessor, string @namespace, string path, string reason);

        [LoggerMessage(LogEvents.StaticSecretCacheTokenDropped, LogLevel.Debug, "Static secret grants dropped for {Count} token(s): {Reason}")]
        public static partial void TokenDropped(ILogger logger, string reason, int count);

        [LoggerMessage(LogEvents.StaticSecretCacheRevalidated, LogLevel.Debug, "Static secrets revalidated: {Unchanged} unchanged, {Refreshed} refreshed, {Evicted} evicted, {Unavailable} kept while Vault could not answer")]
        public static partial void Revalidated(ILogger logger, int unchanged, int refreshed, int evicted, int unavailable);

        [LoggerMessage(LogEvents.StaticSecretCachePassFailed, LogLevel.Warning, "Static secret cache: the {Pass} pass failed; it runs again at its next interval")]
        public static partial void PassFailed(ILogger logger, string pass, Exception exception);
    }
}
