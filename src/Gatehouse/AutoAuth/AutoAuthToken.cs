namespace Gatehouse.AutoAuth;

/// <summary>
/// One auto-auth token as the proxy and the sinks see it. <see cref="ToString"/> never shows the token itself:
/// records print all their members, and a token must never reach a log line.
/// </summary>
internal sealed record AutoAuthToken(string Token, string? Accessor, DateTimeOffset ObtainedAt, TimeSpan? Ttl, bool Renewable)
{
    /// <summary>When the token expires, or null when it has no TTL.</summary>
    public DateTimeOffset? ExpiresAt => Ttl is { } ttl && ttl > TimeSpan.Zero ? ObtainedAt + ttl : null;

    /// <summary>Set when the login was response-wrapped: the wrap-info JSON that sinks write instead of the token.</summary>
    public string? WrapInfoJson { get; init; }

    public override string ToString() => $"AutoAuthToken {{ Accessor = {Accessor ?? "(none)"}, Ttl = {Ttl}, Renewable = {Renewable} }}";
}
