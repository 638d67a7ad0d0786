using Gatehouse.Vault;

namespace Gatehouse.Cache;

/// <summary>
/// Renews through <see cref="VaultClient"/> over the shared upstream connection pool. Unlike Vault, the renewal
/// carries the entry's <c>X-Vault-Namespace</c>, so leases and tokens made in a namespace renew there too.
/// </summary>
internal sealed class VaultRenewalSender : IRenewalSender
{
    /// <summary>A renewal that hangs longer than this (on the client's <see cref="TimeProvider"/>) failed.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly VaultClient _client;

    /// <param name="client">A client in no namespace of its own: each renewal names the entry's.</param>
    public VaultRenewalSender(VaultClient client)
    {
        _client = client;
    }

    public async ValueTask<RenewalResult> RenewAsync(CacheEntry entry, CancellationToken cancellationToken)
    {
        var isLease = entry.Kind == CacheEntryKind.Lease;
        var @namespace = entry.Namespace == "root/" ? null : entry.Namespace;
        var result = isLease
            ? await _client.RenewLeaseAsync(entry.LeaseToken ?? "", entry.Lease!, TimeSpan.Zero, @namespace, cancellationToken).ConfigureAwait(false)
            : await _client.RenewSelfAsync(entry.Token ?? "", TimeSpan.Zero, @namespace, cancellationToken).ConfigureAwait(false);
        if (result.Error is { } error)
        {
            var message = error.Status is 0 or (>= 200 and < 300) ? string.Join("; ", error.Errors) : $"Vault answered {error.Status}";
            return new RenewalResult(error.Status is >= 400 and < 500 ? RenewalOutcome.Refused : RenewalOutcome.Failed, Error: message);
        }

        // A lease's new TTL is at the top; a token's is in auth. An answer without it (an empty body, no auth)
        // renewed nothing we can see: try again later, and evict when the entry runs out of time.
        TimeSpan? ttl = isLease ? result.Secret?.LeaseDuration : result.Secret?.Auth?.LeaseDuration;
        return ttl is { } value
            ? new RenewalResult(RenewalOutcome.Renewed, (long)value.TotalSeconds)
            : new RenewalResult(RenewalOutcome.Failed, Error: isLease ? "the answer is empty" : "the answer has no auth");
    }
}
