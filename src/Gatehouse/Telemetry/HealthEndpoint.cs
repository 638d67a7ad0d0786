using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gatehouse.GoCompat;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.Telemetry;

/// <summary>
/// <c>GET /agent/v1/health</c> and <c>/proxy/v1/health</c> (ours; Vault has none, hashicorp/vault#13602), for
/// Kubernetes probes and load balancers. Never proxied; served on metrics_only listeners too. Three questions, chosen
/// by the query:
/// <list type="bullet">
/// <item>readiness (the default, <c>?probe=ready</c>): 200 when the listener answers, the host is not shutting down
/// and, when auto-auth is configured, it holds an unexpired token. Vault's reachability is reported in the body but does
/// not count, so a Vault outage does not take every pod out of its Service while the cache can still serve.</item>
/// <item>readiness that needs Vault (<c>?vault=required</c>, optionally <c>&amp;vault_grace=30s</c>): as above, and
/// Vault must not have been unreachable for longer than the grace (the default is 60 seconds).</item>
/// <item>liveness (<c>?probe=live</c>): 200 whenever the process serves HTTP; never depends on Vault or the token.</item>
/// </list>
/// 503 carries the same body. A bad query value is 400 with a Vault-style <c>{"errors":[...]}</c> body.
/// </summary>
internal sealed class HealthEndpoint(IHealthState state, TimeProvider time)
{
    /// <summary>How long Vault may be unreachable before <c>?vault=required</c> turns 503. The default is 60 seconds.</summary>
    public static readonly TimeSpan DefaultVaultGrace = TimeSpan.FromSeconds(60);

    public async Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "application/json";
        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            await response.WriteAsync("""{"errors":[]}""", context.RequestAborted);
            return;
        }

        response.Headers.CacheControl = "no-store";
        if (HealthQuery.Parse(context.Request.Query, out var error) is not { } query)
        {
            response.StatusCode = StatusCodes.Status400BadRequest;
            await response.WriteAsync(ErrorBody(error), context.RequestAborted);
            return;
        }

        var (healthy, body) = Evaluate(query);
        response.StatusCode = healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    /// <summary>
    /// The verdict and the JSON body: authenticated, token_ttl_seconds, last_login, vault_reachable, cache_entries,
    /// then ready, vault_unreachable_seconds, shutting_down, and with a shared store shared_up and shared_address
    /// (which never change the verdict).
    /// </summary>
    public (bool Healthy, byte[] Body) Evaluate(HealthQuery query)
    {
        var now = time.GetUtcNow();
        var token = state.Token;
        bool authenticated = token is { } present && (present.ExpiresAt is not { } expires || expires > now);
        long? ttlSeconds = authenticated && token!.Value.ExpiresAt is { } at ? (long)Math.Floor((at - now).TotalSeconds) : null;
        bool reachable = state.Vault.IsReachable;
        var unreachableFor = state.Vault.UnreachableFor;
        bool shuttingDown = state.ShuttingDown;
        bool ready = (authenticated || !state.AutoAuthConfigured) && !shuttingDown;
        bool healthy = query.Live || (ready && (!query.VaultRequired || unreachableFor <= query.VaultGrace));

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteBoolean("authenticated", authenticated);
            WriteNumberOrNull(json, "token_ttl_seconds", ttlSeconds);
            if (token is { } login)
            {
                json.WriteString("last_login", login.ObtainedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            }
            else
            {
                json.WriteNull("last_login");
            }

            json.WriteBoolean("vault_reachable", reachable);
            WriteNumberOrNull(json, "cache_entries", state.CacheEntries);
            json.WriteBoolean("ready", ready);
            WriteNumberOrNull(json, "vault_unreachable_seconds", reachable ? null : (long)Math.Floor(unreachableFor.TotalSeconds));
            json.WriteBoolean("shutting_down", shuttingDown);
            if (state.Shared is { } shared)
            {
                // Reported, never counted: replicas serve from their own cache and Vault while Redis is away.
                json.WriteBoolean("shared_up", shared.Up);
                json.WriteString("shared_address", shared.Address);
            }
            json.WriteEndObject();
        }

        return (healthy, buffer.ToArray());
    }

    private static void WriteNumberOrNull(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    // Quotes come out as \" (as Go writes them), not \u0022, as in the proxy's error bodies.
    private static readonly JsonWriterOptions ErrorWriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string ErrorBody(string message)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, ErrorWriterOptions))
        {
            json.WriteStartObject();
            json.WriteStartArray("errors");
            json.WriteStringValue(message);
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}

/// <summary>What a health request asks: liveness, or readiness with or without Vault (and how long Vault may be away).</summary>
internal sealed record HealthQuery(bool Live, bool VaultRequired, TimeSpan VaultGrace)
{
    public static readonly HealthQuery Default = new(Live: false, VaultRequired: false, HealthEndpoint.DefaultVaultGrace);

    /// <summary>
    /// Reads <c>probe</c> (<c>ready</c>, the default, or <c>live</c>), <c>vault</c> (<c>optional</c>, the default, or
    /// <c>required</c>) and <c>vault_grace</c> (a Go duration or whole seconds, not negative). Other parameters are
    /// ignored. Null and a message when a value is not one of these.
    /// </summary>
    public static HealthQuery? Parse(IQueryCollection query, out string error)
    {
        error = "";
        var result = Default;
        switch (query["probe"].ToString())
        {
            case "" or "ready": break;
            case "live": result = result with { Live = true }; break;
            case var other:
                error = $"invalid value \"{other}\" for probe; use ready (the default) or live";
                return null;
        }

        switch (query["vault"].ToString())
        {
            case "" or "optional": break;
            case "required": result = result with { VaultRequired = true }; break;
            case var other:
                error = $"invalid value \"{other}\" for vault; use optional (the default) or required";
                return null;
        }

        if (query["vault_grace"].ToString() is { Length: > 0 } grace)
        {
            if (!GoFormat.TryParseDurationSecond(grace, out var span) || span < TimeSpan.Zero)
            {
                error = $"invalid value \"{grace}\" for vault_grace; use a duration such as 30s or 2m";
                return null;
            }

            result = result with { VaultGrace = span };
        }

        return result;
    }
}
