using System.Net.Http.Headers;
using System.Text.Json;

namespace Gatehouse.Cache;

internal enum CacheDecisionKind
{
    PassThrough,
    Lease,
    Token,
}

/// <summary>The outcome of <see cref="Cacheability.Decide"/>; <see cref="Reason"/> says why, for logs and tests.</summary>
internal sealed record CacheDecision(CacheDecisionKind Kind, string Reason)
{
    public string? LeaseId { get; init; }

    public string? ClientToken { get; init; }

    public string? Accessor { get; init; }

    /// <summary>For a non-orphan token: the request token, which becomes its parent.</summary>
    public string? Parent { get; init; }

    public long TtlSeconds { get; init; }

    public static CacheDecision Pass(string reason) => new(CacheDecisionKind.PassThrough, reason);
}

/// <summary>
/// Whether an upstream answer goes into the cache: Vault's decision steps (lease_cache.go), with fixes for its known flaws
/// (renewal answers cached as new leases, non-JSON bodies answered 500). Steps: 1. renewal answers never; 2. only 2xx <c>application/json</c>; 3. parse (a body that is not a
/// Vault secret passes through, where Vault answers 500); 4. a renewable <c>lease_id</c> under a managed token;
/// 5. a renewable, non-batch <c>auth</c>: orphans always, others only under a managed parent; 6. nothing else.
/// </summary>
internal static class Cacheability
{
    public static CacheDecision Decide(CacheRequest request, int statusCode, string? contentType, ReadOnlySpan<byte> body, Func<string?, bool> isManagedToken)
    {
        if (IsRenewal(request))
        {
            // hashicorp/vault #19684: Vault caches a renewal answer as a new lease and serves it again later.
            return CacheDecision.Pass("renewal");
        }

        if (statusCode is < 200 or >= 300)
        {
            return CacheDecision.Pass("status");
        }

        if (!IsJson(contentType))
        {
            return CacheDecision.Pass("content-type");
        }

        if (body.IsEmpty)
        {
            return CacheDecision.Pass("empty");
        }

        try
        {
            // Most answers through the cache are KV reads and other secrets without a lease: one allocation-free pass
            // over the top level settles those; only a candidate is parsed into a document.
            if (!MayHoldLeaseOrAuth(body))
            {
                return CacheDecision.Pass("no lease or auth");
            }

            using var document = JsonDocument.Parse(body.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return CacheDecision.Pass("not a secret");
            }

            if (root.TryGetProperty("wrap_info", out var wrap) && wrap.ValueKind == JsonValueKind.Object)
            {
                return CacheDecision.Pass("wrapped");
            }

            var leaseId = String(root, "lease_id");
            if (!string.IsNullOrEmpty(leaseId))
            {
                if (!Bool(root, "renewable"))
                {
                    return CacheDecision.Pass("lease not renewable");
                }

                if (!isManagedToken(request.Token))
                {
                    return CacheDecision.Pass("lease under an unmanaged token");
                }

                return new CacheDecision(CacheDecisionKind.Lease, "lease") { LeaseId = leaseId, TtlSeconds = Long(root, "lease_duration") };
            }

            if (root.TryGetProperty("auth", out var auth) && auth.ValueKind == JsonValueKind.Object)
            {
                var clientToken = String(auth, "client_token");
                if (string.IsNullOrEmpty(clientToken))
                {
                    return CacheDecision.Pass("auth without token");
                }

                if (!Bool(auth, "renewable") || String(auth, "token_type") == "batch")
                {
                    return CacheDecision.Pass("token not renewable");
                }

                var ttl = Long(auth, "lease_duration");
                if (ttl <= 0)
                {
                    return CacheDecision.Pass("token without ttl");
                }

                var accessor = String(auth, "accessor");
                if (Bool(auth, "orphan"))
                {
                    return new CacheDecision(CacheDecisionKind.Token, "orphan token") { ClientToken = clientToken, Accessor = accessor, TtlSeconds = ttl };
                }

                if (!isManagedToken(request.Token))
                {
                    return CacheDecision.Pass("child of an unmanaged token");
                }

                return new CacheDecision(CacheDecisionKind.Token, "child token")
                {
                    ClientToken = clientToken, Accessor = accessor, TtlSeconds = ttl, Parent = request.Token,
                };
            }

            return CacheDecision.Pass("no lease or auth");
        }
        catch (JsonException)
        {
            return CacheDecision.Pass("not a secret");
        }
    }

    /// <summary>
    /// True when the top-level object has a non-empty <c>lease_id</c> string or an <c>auth</c> object: the only answers
    /// the full decision can cache. Nested values are skipped without being read. Throws <see cref="JsonException"/>
    /// for malformed JSON, as parsing would.
    /// </summary>
    internal static bool MayHoldLeaseOrAuth(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isLease = reader.ValueTextEquals("lease_id"u8);
            var isAuth = !isLease && reader.ValueTextEquals("auth"u8);
            reader.Read();
            if ((isLease && reader.TokenType == JsonTokenType.String && (reader.HasValueSequence || reader.ValueSpan.Length > 0))
                || (isAuth && reader.TokenType == JsonTokenType.StartObject))
            {
                return true;
            }

            reader.Skip();
        }

        return false;
    }

    /// <summary><c>sys/leases/renew</c>, legacy <c>sys/renew</c> (with or without an id in the URL), <c>auth/token/renew*</c>.</summary>
    public static bool IsRenewal(CacheRequest request)
    {
        var api = CachePaths.ApiPath(request.NormalizedPath, "sys/leases/renew", "sys/renew", "auth/token/renew");
        if (api is null)
        {
            return false;
        }

        return api is "sys/leases/renew" or "sys/renew"
            || api.StartsWith("sys/leases/renew/", StringComparison.Ordinal)
            || api.StartsWith("sys/renew/", StringComparison.Ordinal)
            || api.StartsWith("auth/token/renew", StringComparison.Ordinal);
    }

    /// <summary>The media type <c>application/json</c>; unlike Vault, a <c>charset</c> parameter does not disqualify.</summary>
    public static bool IsJson(string? contentType) =>
        contentType is not null && MediaTypeHeaderValue.TryParse(contentType, out var media)
        && string.Equals(media.MediaType, "application/json", StringComparison.OrdinalIgnoreCase);

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool Bool(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    private static long Long(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n : 0;
}
