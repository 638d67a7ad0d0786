using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.ApiProxy;

/// <summary>
/// Keeps the auto-auth token out of answers a client could read it from, as Vault Agent does: token lookups and renewals
/// made with it (lookup-self, renew-self) or naming it (lookup, renew with the token, or no token, in the body). From
/// such a 200 answer <c>data.id</c> and <c>data.accessor</c> are removed and <c>auth.client_token</c> and
/// <c>auth.accessor</c> are blanked. Unlike Vault Agent, every other field is kept as Vault sent it.
/// </summary>
internal static class TokenRedactor
{
    private static readonly JsonSerializerOptions SerializerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    internal enum Kind
    {
        None,

        /// <summary>lookup-self / renew-self: redact when the request used the auto-auth token.</summary>
        Self,

        /// <summary>lookup / renew: redact when the body's token is the auto-auth token or absent.</summary>
        ByBody,
    }

    /// <summary>Which redaction rule a request path falls under; namespaced paths (/v1/ns1/auth/...) count too.</summary>
    public static Kind Classify(string path)
    {
        if (!path.StartsWith("/v1/", StringComparison.Ordinal))
        {
            return Kind.None;
        }

        var trimmed = path.AsSpan().TrimEnd('/');
        if (EndsWithSegment(trimmed, "auth/token/lookup-self") || EndsWithSegment(trimmed, "auth/token/renew-self"))
        {
            return Kind.Self;
        }

        return EndsWithSegment(trimmed, "auth/token/lookup") || EndsWithSegment(trimmed, "auth/token/renew") ? Kind.ByBody : Kind.None;
    }

    /// <summary>Whether a request must be redacted, given the auto-auth token and (for lookup/renew) its body.</summary>
    public static bool Applies(Kind kind, ProxyRequest request, string? autoAuthToken)
    {
        if (string.IsNullOrEmpty(autoAuthToken))
        {
            return false;
        }

        return kind switch
        {
            Kind.Self => request.Token == autoAuthToken,
            Kind.ByBody => BodyToken(request.Body) is not { Length: > 0 } token || token == autoAuthToken,
            _ => false,
        };
    }

    /// <summary>Returns the body with the token fields redacted; throws <see cref="JsonException"/> for a malformed body.</summary>
    public static byte[] Redact(ReadOnlySpan<byte> body)
    {
        var root = JsonNode.Parse(body)?.AsObject() ?? throw new JsonException("the body is not a JSON object");
        if (root["data"] is JsonObject data)
        {
            data.Remove("id");
            data.Remove("accessor");
        }

        if (root["auth"] is JsonObject auth)
        {
            if (auth.ContainsKey("client_token"))
            {
                auth["client_token"] = "";
            }

            if (auth.ContainsKey("accessor"))
            {
                auth["accessor"] = "";
            }
        }

        return Encoding.UTF8.GetBytes(root.ToJsonString(SerializerOptions));
    }

    private static string? BodyToken(ReadOnlyMemory<byte>? body)
    {
        if (body is not { Length: > 0 } bytes)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(bytes);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("token", out var token) && token.ValueKind == JsonValueKind.String
                ? token.GetString()
                : null;
        }
        catch (JsonException)
        {
            // Vault will reject the body itself; nothing of ours is in it.
            return "\0unparsable";
        }
    }

    private static bool EndsWithSegment(ReadOnlySpan<char> path, string suffix) =>
        path.EndsWith(suffix, StringComparison.Ordinal) && path[path.Length - suffix.Length - 1] == '/';
}
