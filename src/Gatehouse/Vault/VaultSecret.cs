using System.Text.Json;

namespace Gatehouse.Vault;

/// <summary>
/// A Vault response body (<c>api.Secret</c>): the parts auto-auth and sinks read. <see cref="ToString"/> never prints
/// tokens or data: records print all their members, and none of this may reach a log line.
/// </summary>
internal sealed record VaultSecret
{
    public string? RequestId { get; init; }

    public string? LeaseId { get; init; }

    public TimeSpan LeaseDuration { get; init; }

    public bool Renewable { get; init; }

    /// <summary>The <c>data</c> object (cloned, so it outlives the response), or null.</summary>
    public JsonElement? Data { get; init; }

    public VaultAuth? Auth { get; init; }

    public VaultWrapInfo? WrapInfo { get; init; }

    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>A string member of <see cref="Data"/>, or null.</summary>
    public string? GetDataString(string name) =>
        Data is { ValueKind: JsonValueKind.Object } data && data.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>A number member of <see cref="Data"/> (Vault sends TTLs as numbers, sometimes as strings), or null.</summary>
    public long? GetDataInt64(string name)
    {
        if (Data is not { ValueKind: JsonValueKind.Object } data || !data.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt64(out var n) => n,
            JsonValueKind.String when long.TryParse(value.GetString(), out var n) => n,
            _ => null,
        };
    }

    /// <summary>A boolean member of <see cref="Data"/>, or null.</summary>
    public bool? GetDataBool(string name) =>
        Data is { ValueKind: JsonValueKind.Object } data && data.TryGetProperty(name, out var value)
            ? value.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => null }
            : null;

    public override string ToString() =>
        $"VaultSecret {{ RequestId = {RequestId}, LeaseDuration = {LeaseDuration}, Renewable = {Renewable}, Auth = {Auth}, WrapInfo = {WrapInfo} }}";

    public static VaultSecret Parse(JsonElement root)
    {
        return new VaultSecret
        {
            RequestId = GetString(root, "request_id"),
            LeaseId = GetString(root, "lease_id"),
            LeaseDuration = TimeSpan.FromSeconds(GetInt64(root, "lease_duration") ?? 0),
            Renewable = GetBool(root, "renewable"),
            Data = root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object ? data.Clone() : null,
            Auth = root.TryGetProperty("auth", out var auth) && auth.ValueKind == JsonValueKind.Object ? VaultAuth.Parse(auth) : null,
            WrapInfo = root.TryGetProperty("wrap_info", out var wrap) && wrap.ValueKind == JsonValueKind.Object ? VaultWrapInfo.Parse(wrap) : null,
            Warnings = root.TryGetProperty("warnings", out var warnings) && warnings.ValueKind == JsonValueKind.Array
                ? [.. warnings.EnumerateArray().Where(w => w.ValueKind == JsonValueKind.String).Select(w => w.GetString()!)]
                : [],
        };
    }

    internal static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    internal static long? GetInt64(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n : null;

    internal static bool GetBool(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;
}

/// <summary>The <c>auth</c> object of a login or renewal response.</summary>
internal sealed record VaultAuth(string ClientToken, string? Accessor, TimeSpan LeaseDuration, bool Renewable, string? TokenType)
{
    public static VaultAuth Parse(JsonElement auth) => new(
        VaultSecret.GetString(auth, "client_token") ?? "",
        VaultSecret.GetString(auth, "accessor"),
        TimeSpan.FromSeconds(VaultSecret.GetInt64(auth, "lease_duration") ?? 0),
        VaultSecret.GetBool(auth, "renewable"),
        VaultSecret.GetString(auth, "token_type"));

    public override string ToString() =>
        $"VaultAuth {{ Accessor = {Accessor}, LeaseDuration = {LeaseDuration}, Renewable = {Renewable}, TokenType = {TokenType} }}";
}

/// <summary>The <c>wrap_info</c> object of a response-wrapped response (Go's <c>api.SecretWrapInfo</c>).</summary>
internal sealed record VaultWrapInfo(
    string Token, string? Accessor, long Ttl, string? CreationTime, string? CreationPath, string? WrappedAccessor)
{
    public static VaultWrapInfo Parse(JsonElement wrap) => new(
        VaultSecret.GetString(wrap, "token") ?? "",
        VaultSecret.GetString(wrap, "accessor"),
        VaultSecret.GetInt64(wrap, "ttl") ?? 0,
        VaultSecret.GetString(wrap, "creation_time"),
        VaultSecret.GetString(wrap, "creation_path"),
        VaultSecret.GetString(wrap, "wrapped_accessor"));

    /// <summary>
    /// The JSON a sink writes: the six fields of Go's <c>api.SecretWrapInfo</c>, in its order, so consumers that
    /// read Vault Agent's sink files read ours unchanged.
    /// </summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("token", Token);
            writer.WriteString("accessor", Accessor ?? "");
            writer.WriteNumber("ttl", Ttl);
            writer.WriteString("creation_time", CreationTime ?? "0001-01-01T00:00:00Z");
            writer.WriteString("creation_path", CreationPath ?? "");
            writer.WriteString("wrapped_accessor", WrappedAccessor ?? "");
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    public override string ToString() =>
        $"VaultWrapInfo {{ Accessor = {Accessor}, Ttl = {Ttl}, CreationPath = {CreationPath}, WrappedAccessor = {WrappedAccessor} }}";
}

/// <summary>
/// An expected failure talking to Vault, as a value. <see cref="Status"/> is the HTTP status, or 0 when no response
/// came back (connection refused, reset, timeout). <see cref="Errors"/> is Vault's <c>errors</c> array.
/// </summary>
internal sealed record VaultError(int Status, IReadOnlyList<string> Errors)
{
    /// <summary>No HTTP response: Vault is down or unreachable.</summary>
    public bool IsTransport => Status == 0;

    /// <summary>
    /// Vault cannot serve now: no response, or 502/503/504 (sealed, a standby with no active node, a load balancer
    /// with no Vault behind it). An outage, not a verdict on the request: the same request may work once Vault is back.
    /// </summary>
    public bool IsUnavailable => Status is 0 or 502 or 503 or 504;

    /// <summary>
    /// Vault refused the token itself (403 "permission denied", or 400/403 "bad token"): retrying with it is pointless.
    /// </summary>
    public bool IsTokenRejected => Status == 403
        || (Status == 400 && Errors.Any(e => e.Contains("bad token", StringComparison.OrdinalIgnoreCase)));

    public override string ToString() =>
        Status == 0 ? $"no response from Vault: {string.Join("; ", Errors)}" : $"Vault answered {Status}: {string.Join("; ", Errors)}";
}

/// <summary>Either a <see cref="VaultSecret"/> (possibly null for a 204) or a <see cref="VaultError"/>.</summary>
internal readonly record struct VaultResult(VaultSecret? Secret, VaultError? Error)
{
    public bool IsSuccess => Error is null;

    public static VaultResult Success(VaultSecret? secret) => new(secret, null);

    public static VaultResult Failure(VaultError error) => new(null, error);
}

/// <summary>
/// Vault's answer as sent: <see cref="Status"/> 0 means none came (<see cref="TransportError"/> says why).
/// </summary>
internal sealed record VaultRawResponse(int Status, byte[] Body, string? TransportError)
{
    public bool IsSuccess => Status is >= 200 and < 300;

    /// <summary>No answer, or 502/503/504: an outage, not a verdict on the request.</summary>
    public bool IsUnavailable => Status is 0 or 502 or 503 or 504;
}
