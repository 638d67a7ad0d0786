namespace Gatehouse.Cache;

internal enum RenewalOutcome
{
    /// <summary>Vault renewed it; <see cref="RenewalResult.TtlSeconds"/> is the new TTL.</summary>
    Renewed,

    /// <summary>Vault said no (4xx: revoked, expired, not renewable, permission denied): evict at once.</summary>
    Refused,

    /// <summary>No answer or a 5xx: try again later, with backoff.</summary>
    Failed,

    /// <summary>
    /// Another replica of a shared cache holds this period's renewal of the entry and has not written its answer yet:
    /// look again in a second (no backoff, no failure counted).
    /// </summary>
    Deferred,
}

/// <param name="Since">
/// When the TTL was granted, when not now: a renewal another replica made (shared cache) and this one adopts. The next
/// renewal is scheduled from it, so every replica holding the entry agrees on when the next period starts.
/// </param>
/// <param name="Adopted">True when the renewal was another replica's (no request went to Vault from here).</param>
internal readonly record struct RenewalResult(RenewalOutcome Outcome, long TtlSeconds = 0, string? Error = null, DateTimeOffset? Since = null, bool Adopted = false);

/// <summary>Sends one renewal upstream: <c>sys/leases/renew</c> for a lease, <c>auth/token/renew-self</c> for a token.</summary>
internal interface IRenewalSender
{
    ValueTask<RenewalResult> RenewAsync(CacheEntry entry, CancellationToken cancellationToken);
}
