using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Telemetry;

/// <summary>
/// <c>GET /agent/v1/health</c> and <c>/proxy/v1/health</c> (ours; Vault has none, hashicorp/vault#13602), for
/// Kubernetes probes. 200 when ready; 503 with the same body when auto-auth is configured and has no unexpired token,
/// or Vault has been unreachable for longer than the threshold. Never proxied; served on metrics_only listeners too.
/// </summary>
internal sealed class HealthEndpoint(IHealthState state, TimeProvider time, TimeSpan? unreachableThreshold = null)
{
    /// <summary>How long Vault may be unreachable before health turns 503. The default is 60 seconds.</summary>
    public static readonly TimeSpan DefaultUnreachableThreshold = TimeSpan.FromSeconds(60);

    private readonly TimeSpan _threshold = unreachableThreshold ?? DefaultUnreachableThreshold;

    public async Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.ContentType = "application/json";
            await response.WriteAsync("""{"errors":[]}""", context.RequestAborted);
            return;
        }

        var (healthy, body) = Evaluate();
        response.StatusCode = healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    /// <summary>The verdict and the JSON body: authenticated, token_ttl_seconds, last_login, vault_reachable, cache_entries.</summary>
    public (bool Healthy, byte[] Body) Evaluate()
    {
        var now = time.GetUtcNow();
        var token = state.Token;
        bool authenticated = token is { } present && (present.ExpiresAt is not { } expires || expires > now);
        long? ttlSeconds = authenticated && token!.Value.ExpiresAt is { } at ? (long)Math.Floor((at - now).TotalSeconds) : null;
        bool reachable = state.Vault.IsReachable;
        bool healthy = (authenticated || !state.AutoAuthConfigured) && state.Vault.UnreachableFor <= _threshold;

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteBoolean("authenticated", authenticated);
            if (ttlSeconds is { } ttl)
            {
                json.WriteNumber("token_ttl_seconds", ttl);
            }
            else
            {
                json.WriteNull("token_ttl_seconds");
            }

            if (token is { } login)
            {
                json.WriteString("last_login", login.ObtainedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            }
            else
            {
                json.WriteNull("last_login");
            }

            json.WriteBoolean("vault_reachable", reachable);
            if (state.CacheEntries is { } entries)
            {
                json.WriteNumber("cache_entries", entries);
            }
            else
            {
                json.WriteNull("cache_entries");
            }

            json.WriteEndObject();
        }

        return (healthy, buffer.ToArray());
    }
}
