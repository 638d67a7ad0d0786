namespace Gatehouse.Cache;

internal enum RenewalOutcome
{
    /// <summary>Vault renewed it; <see cref="RenewalResult.TtlSeconds"/> is the new TTL.</summary>
    Renewed,

    /// <summary>Vault said no (4xx: revoked, expired, not renewable, permission denied): evict at once.</summary>
    Refused,

    /// <summary>No answer or a 5xx: try again later, with backoff.</summary>
    Failed,
}

internal readonly record struct RenewalResult(RenewalOutcome Outcome, long TtlSeconds = 0, string? Error = null);

/// <summary>Sends one renewal upstream: <c>sys/leases/renew</c> for a lease, <c>auth/token/renew-self</c> for a token.</summary>
internal interface IRenewalSender
{
    ValueTask<RenewalResult> RenewAsync(CacheEntry entry, CancellationToken cancellationToken);
}
