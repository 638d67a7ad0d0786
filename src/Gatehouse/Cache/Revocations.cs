using System.Text.Json;

namespace Gatehouse.Cache;

internal enum RevocationKind
{
    Token,
    Accessor,
    Orphan,
    Lease,
    LeasePrefix,
}

internal sealed record Revocation(RevocationKind Kind, string Value);

/// <summary>
/// Recognises a revocation that went through the proxy, so the cache can forget what Vault just revoked. Covers
/// every form Vault accepts, namespace-prefixed paths (<c>/v1/ns1/auth/token/revoke</c>) included: the token
/// endpoints, <c>sys/leases/revoke</c> (body and URL forms), <c>revoke-prefix</c>/<c>revoke-force</c> and the legacy
/// <c>sys/revoke*</c>. Vault's own matching misses the URL and legacy forms and never matches a prefix (it keeps the
/// leading slash); ours does.
/// </summary>
internal static class Revocations
{
    public static Revocation? Recognise(CacheRequest request)
    {
        if (request.Method is not ("PUT" or "POST"))
        {
            return null;
        }

        var api = CachePaths.ApiPath(request.NormalizedPath, "auth/token/revoke", "sys/leases/revoke", "sys/revoke");
        switch (api)
        {
            case null:
                return null;
            case "auth/token/revoke":
                return FromBody(request, RevocationKind.Token, "token");
            case "auth/token/revoke-self":
                return request.Token is null ? null : new Revocation(RevocationKind.Token, request.Token);
            case "auth/token/revoke-accessor":
                return FromBody(request, RevocationKind.Accessor, "accessor");
            case "auth/token/revoke-orphan":
                return FromBody(request, RevocationKind.Orphan, "token");
            case "sys/leases/revoke" or "sys/revoke":
                return FromBody(request, RevocationKind.Lease, "lease_id");
        }

        foreach (var (prefix, kind) in UrlForms)
        {
            if (api.StartsWith(prefix, StringComparison.Ordinal) && api.Length > prefix.Length)
            {
                return new Revocation(kind, Uri.UnescapeDataString(api[prefix.Length..]));
            }
        }

        return null;
    }

    private static readonly (string Prefix, RevocationKind Kind)[] UrlForms =
    [
        ("sys/leases/revoke-prefix/", RevocationKind.LeasePrefix),
        ("sys/leases/revoke-force/", RevocationKind.LeasePrefix),
        ("sys/revoke-prefix/", RevocationKind.LeasePrefix),
        ("sys/revoke-force/", RevocationKind.LeasePrefix),
        ("sys/leases/revoke/", RevocationKind.Lease),
        ("sys/revoke/", RevocationKind.Lease),
        ("auth/token/revoke/", RevocationKind.Token),
    ];

    /// <summary>Applies a revocation Vault accepted. Returns the number of entries evicted.</summary>
    public static int Apply(CacheIndex index, Revocation revocation, CacheRequest request) => revocation.Kind switch
    {
        RevocationKind.Token => index.EvictToken(revocation.Value, EvictionReason.Revoked),
        RevocationKind.Accessor => index.EvictAccessor(revocation.Value, EvictionReason.Revoked),
        RevocationKind.Orphan => index.EvictOrphaning(revocation.Value, EvictionReason.Revoked),
        RevocationKind.Lease => index.EvictLease(revocation.Value, EvictionReason.Revoked),
        RevocationKind.LeasePrefix => index.EvictLeasePrefix(revocation.Value.Trim('/'), request.IndexNamespace, EvictionReason.Revoked),
        _ => 0,
    };

    private static Revocation? FromBody(CacheRequest request, RevocationKind kind, string field)
    {
        if (request.Body.IsEmpty)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(request.Body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String
                && value.GetString() is { Length: > 0 } text)
            {
                return new Revocation(kind, text);
            }
        }
        catch (JsonException)
        {
            // Vault already revoked (or refused); a body we cannot read only means there is nothing to evict.
        }

        return null;
    }
}
