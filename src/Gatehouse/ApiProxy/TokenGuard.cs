using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gatehouse.ApiProxy;

/// <summary>
/// Keeps the auto-auth token, and its accessor, out of every answer to a request that carried it upstream. The rule is
/// decided by what the answer says, not by guessing from the request what Vault will do: path spellings (<c>//</c>,
/// <c>..</c>, escapes), methods, body encodings (Vault looks up the caller's own token for an empty or form body) and
/// redirects all end in an answer, and the answer is what is checked.
/// </summary>
/// <remarks>
/// <para>Steps for an answer read whole (<see cref="Apply"/>): 1. a fast byte search; nothing found → unchanged.
/// 2. a wrapped answer whose wrapping token would unwrap to the token → refused (<see cref="GuardVerdict.RefuseWrapped"/>).
/// 3. a JSON answer: where Vault describes the token itself (<c>data.id</c> or <c>auth.client_token</c> is the
/// token) the token and accessor fields are removed or blanked, as Vault Agent does, every other field kept.
/// 4. any occurrence left, anywhere (another field, a non-JSON body), is masked byte for byte with <c>*</c>.</para>
/// <para>A streamed answer (too large to read whole, or not JSON) goes through <see cref="TokenMaskingStream"/>, which
/// applies step 4 on the way.</para>
/// </remarks>
internal sealed class TokenGuard
{
    /// <summary>What masks a hidden value: one byte per byte, so lengths (and Content-Length) do not change.</summary>
    public const byte MaskByte = (byte)'*';

    private static readonly JsonSerializerOptions SerializerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private TokenGuard(string token, string? accessor)
    {
        Token = token;
        Accessor = string.IsNullOrEmpty(accessor) ? null : accessor;
        Secrets = Accessor is null ? [Encoding.UTF8.GetBytes(token)] : [Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(Accessor)];
    }

    public string Token { get; }

    public string? Accessor { get; }

    /// <summary>The byte strings no answer may carry: the token, then the accessor when known.</summary>
    public byte[][] Secrets { get; }

    /// <summary>
    /// The guard for a request, or null when the request does not carry the auto-auth token upstream (its own token,
    /// or none: nothing of ours can come back).
    /// </summary>
    public static TokenGuard? For(string? requestToken, string? autoAuthToken, string? autoAuthAccessor) =>
        !string.IsNullOrEmpty(requestToken) && string.Equals(requestToken, autoAuthToken, StringComparison.Ordinal)
            ? new TokenGuard(requestToken, autoAuthAccessor)
            : null;

    /// <summary>True when <paramref name="body"/> holds the token or the accessor anywhere.</summary>
    public bool Finds(ReadOnlySpan<byte> body)
    {
        foreach (var secret in Secrets)
        {
            if (body.IndexOf(secret) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Checks an answer read whole. <paramref name="safe"/> is the body to send when the verdict is not a refusal.</summary>
    public GuardVerdict Apply(ReadOnlyMemory<byte> body, out ReadOnlyMemory<byte> safe, out string? wrappingToken)
    {
        safe = body;
        wrappingToken = null;
        if (body.IsEmpty || !Finds(body.Span) && !MayBeWrapped(body.Span))
        {
            return GuardVerdict.Clean;
        }

        JsonObject? root = null;
        try
        {
            root = JsonNode.Parse(body.Span) as JsonObject;
        }
        catch (JsonException)
        {
            // Not JSON: nothing to rewrite field by field; the mask below still applies.
        }

        if (root is not null && WrapsTheToken(root, out wrappingToken))
        {
            return GuardVerdict.RefuseWrapped;
        }

        if (!Finds(body.Span))
        {
            return GuardVerdict.Clean;
        }

        var bytes = root is not null && RedactDescriptions(root)
            ? Encoding.UTF8.GetBytes(root.ToJsonString(SerializerOptions))
            : body.ToArray();
        Mask(bytes, bytes.Length);
        safe = bytes;
        return GuardVerdict.Redacted;
    }

    /// <summary>Overwrites every occurrence of the token or accessor in <paramref name="buffer"/>[0..length) with <see cref="MaskByte"/>.</summary>
    public void Mask(Span<byte> buffer, int length)
    {
        var span = buffer[..length];
        foreach (var secret in Secrets)
        {
            var from = 0;
            int at;
            while ((at = span[from..].IndexOf(secret)) >= 0)
            {
                span.Slice(from + at, secret.Length).Fill(MaskByte);
                from += at + secret.Length;
            }
        }
    }

    /// <summary>
    /// The length of the longest suffix of <paramref name="span"/> that could be the start of a secret: bytes a
    /// streamed answer must hold back until the next write shows whether the secret completes.
    /// </summary>
    public int PartialMatchAtEnd(ReadOnlySpan<byte> span)
    {
        var longest = 0;
        foreach (var secret in Secrets)
        {
            for (var length = Math.Min(secret.Length - 1, span.Length); length > longest; length--)
            {
                if (span[^length..].SequenceEqual(secret.AsSpan(0, length)))
                {
                    longest = length;
                    break;
                }
            }
        }

        return longest;
    }

    /// <summary>A wrapped answer names no secret in its bytes; it is worth parsing only when it has a wrap_info object.</summary>
    private static bool MayBeWrapped(ReadOnlySpan<byte> body) => body.IndexOf("\"wrap_info\":{"u8) >= 0 || body.IndexOf("\"wrap_info\": {"u8) >= 0;

    /// <summary>
    /// Whether a wrapped answer would unwrap to the token: Vault says so itself, by the accessor of a wrapped auth
    /// block (<c>wrapped_accessor</c>, renew-self) or by the path it served (<c>creation_path</c>, Vault's own
    /// cleaned path) being one of the token endpoints that describe a token (lookup-self, lookup, renew-self, renew).
    /// </summary>
    private bool WrapsTheToken(JsonObject root, out string? wrappingToken)
    {
        wrappingToken = null;
        if (root["wrap_info"] is not JsonObject wrap)
        {
            return false;
        }

        var wrappedAccessor = Text(wrap["wrapped_accessor"]);
        var describesToken = Accessor is not null && wrappedAccessor == Accessor
            || IsTokenDescribingPath(Text(wrap["creation_path"]));
        if (!describesToken)
        {
            return false;
        }

        wrappingToken = Text(wrap["token"]);
        return true;
    }

    /// <summary>
    /// Vault's creation paths of the token store's describing endpoints, with an optional namespace before them:
    /// <c>auth/token/lookup-self</c>, <c>auth/token/lookup</c>, <c>auth/token/lookup/&lt;token&gt;</c>, and the renew forms.
    /// </summary>
    internal static bool IsTokenDescribingPath(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return false;
        }

        var at = path.IndexOf("auth/token/", StringComparison.Ordinal);
        if (at < 0 || (at > 0 && path[at - 1] != '/'))
        {
            return false;
        }

        var rest = path.AsSpan(at + "auth/token/".Length).TrimEnd('/');
        var slash = rest.IndexOf('/');
        var endpoint = slash < 0 ? rest : rest[..slash];
        return endpoint is "lookup-self" or "renew-self" or "lookup" or "renew";
    }

    /// <summary>Where Vault describes the token itself, removes the fields as Vault Agent does. True when anything changed.</summary>
    private bool RedactDescriptions(JsonObject root)
    {
        var changed = false;
        if (root["data"] is JsonObject data && Text(data["id"]) == Token)
        {
            data.Remove("id");
            data.Remove("accessor");
            changed = true;
        }

        if (root["auth"] is JsonObject auth && Text(auth["client_token"]) == Token)
        {
            auth["client_token"] = "";
            if (auth.ContainsKey("accessor"))
            {
                auth["accessor"] = "";
            }

            changed = true;
        }

        return changed;
    }

    private static string? Text(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}

internal enum GuardVerdict
{
    /// <summary>Nothing of ours in the answer.</summary>
    Clean,

    /// <summary>The token or accessor was removed or masked; send the safe body.</summary>
    Redacted,

    /// <summary>A wrapping token that would unwrap to the token: never sent; the wrapping token is to be used up.</summary>
    RefuseWrapped,
}
