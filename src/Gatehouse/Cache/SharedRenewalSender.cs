using Gatehouse.Shared;
using StackExchange.Redis;

namespace Gatehouse.Cache;

/// <summary>
/// Renewal of shared entries by exactly one replica per period. Every replica holding a copy schedules the renewal
/// (at two thirds of the same lifetime, which the copies share); when it comes due, one Lua script either hands back a
/// renewal another replica already made this period (its lifetime in <c>v:{name}</c> is newer than ours: adopt it),
/// or claims the period (<c>SET r:{name}:{since} NX PX</c>, one key per period, for a third of the remaining TTL). The claimant renews at Vault
/// and writes the new lifetime back; the others find the claim taken and look again in a second
/// (<see cref="RenewalOutcome.Deferred"/>), then adopt. An entry Redis no longer holds, any entry while Redis is away,
/// and entries this replica alone holds renew here as without a shared cache: a second renewal is harmless, a missed
/// one is not.
/// </summary>
internal sealed class SharedRenewalSender(IRenewalSender inner, SharedStore store, TimeProvider time) : IRenewalSender
{
    // KEYS: v, e, r; ARGV: our lifetime's since (ms), replica, claim px. Returns {'adopt', v} | {'gone'} | {'claimed'} | {'busy'}.
    private const string ClaimScript = """
        local v = redis.call('GET', KEYS[1])
        if v then
          local since = tonumber(string.match(v, '^(%d+):'))
          if since and since > tonumber(ARGV[1]) then return {'adopt', v} end
        end
        if redis.call('EXISTS', KEYS[2]) == 0 then return {'gone'} end
        if redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[3]) then return {'claimed'} end
        return {'busy'}
        """;

    /// <summary>The shared entries, set once they exist (they are made with the lease cache, after this sender).</summary>
    public SharedEntries? Entries { get; set; }

    public async ValueTask<RenewalResult> RenewAsync(CacheEntry entry, CancellationToken cancellationToken)
    {
        if (entry.SharedName is not { } name || Entries is not { } entries || !store.IsUp)
        {
            return await inner.RenewAsync(entry, cancellationToken).ConfigureAwait(false);
        }

        var lifetime = entry.Lifetime;
        var claimPx = (long)Math.Max(1000, (lifetime.ExpiresAt - time.GetUtcNow()).TotalMilliseconds / 3);
        var answer = await store.RunAsync(
            db => db.ScriptEvaluateAsync(
                ClaimScript,
                [store.Key("v", name), store.Key("e", name), store.Key("r", name, lifetime.Since.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture))],
                [lifetime.Since.ToUnixTimeMilliseconds(), entries.ReplicaId, claimPx]),
            cancellationToken).ConfigureAwait(false);
        if (!answer.Ok)
        {
            return await inner.RenewAsync(entry, cancellationToken).ConfigureAwait(false);
        }

        var parts = (RedisResult[])answer.Value!;
        switch ((string?)parts[0])
        {
            case "adopt" when SharedEntries.ParseLifetime((RedisValue)parts[1]) is { } theirs:
                return new RenewalResult(RenewalOutcome.Renewed, theirs.TtlSeconds, Since: theirs.Since, Adopted: true);
            case "busy":
                return new RenewalResult(RenewalOutcome.Deferred);
            case "claimed":
                var result = await inner.RenewAsync(entry, cancellationToken).ConfigureAwait(false);
                if (result.Outcome == RenewalOutcome.Renewed)
                {
                    // Written for the others to adopt, and returned with its time, so every copy starts the next period
                    // at the same instant (and claims the same period key).
                    var renewed = new CacheLifetime(result.Since ?? time.GetUtcNow(), result.TtlSeconds);
                    await entries.WriteLifetimeAsync(entry, renewed, cancellationToken).ConfigureAwait(false);
                    return result with { Since = renewed.Since };
                }

                return result;
            default:
                return await inner.RenewAsync(entry, cancellationToken).ConfigureAwait(false);
        }
    }
}
