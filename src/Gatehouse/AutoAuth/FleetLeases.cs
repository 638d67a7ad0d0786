using Gatehouse.Shared;
using StackExchange.Redis;

namespace Gatehouse.AutoAuth;

/// <summary>What a fenced write of the fleet token did.</summary>
internal enum FleetWrite
{
    Written,

    /// <summary>Refused: a newer leader (a higher epoch) exists. The writer is stale and must stop leading.</summary>
    Stale,

    /// <summary>Redis did not answer (down, timed out); nothing is known.</summary>
    Failed,
}

/// <summary>
/// The Redis side of one fleet's identity, under <c>&lt;prefix&gt;fleet:&lt;fleet id&gt;:</c>: the leader lease
/// (<c>leader</c> = <c>replica:epoch</c>, taken with <c>SET NX PX</c>, the epoch from <c>INCR epoch</c> in the same
/// script), its renewal and release (Lua scripts that check the value, so only the holder can), and the token
/// record (a hash: <c>epoch</c>, <c>version</c>, <c>sealed</c>), written only by a script that refuses an epoch lower
/// than the fleet's current one: a stale leader (one whose lease expired and was taken over) cannot overwrite.
/// </summary>
internal sealed class FleetLeases(SharedStore shared, string fleetId)
{
    // KEYS[1] leader, KEYS[2] epoch counter; ARGV[1] replica id, ARGV[2] lease ms. The epoch moves only when the lease is taken.
    private const string AcquireScript = """
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        local epoch = redis.call('INCR', KEYS[2])
        if redis.call('SET', KEYS[1], ARGV[1] .. ':' .. epoch, 'NX', 'PX', ARGV[2]) then return epoch end
        return 0
        """;

    // KEYS[1] leader; ARGV[1] the holder's value, ARGV[2] lease ms.
    private const string RenewScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        return 0
        """;

    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    // KEYS[1] token hash, KEYS[2] epoch counter; ARGV[1] writer's epoch, ARGV[2] sealed token, ARGV[3] ms to keep it (0: no expiry).
    private const string WriteScript = """
        local current = tonumber(redis.call('GET', KEYS[2]) or '0')
        if tonumber(ARGV[1]) < current then return -1 end
        local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
        redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'sealed', ARGV[2])
        if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) else redis.call('PERSIST', KEYS[1]) end
        return version
        """;

    public string FleetId => fleetId;

    public string LeaderKey { get; } = shared.Key("fleet", fleetId, "leader");

    public string EpochKey { get; } = shared.Key("fleet", fleetId, "epoch");

    /// <summary>The token record; also the associated data its sealed value is bound to.</summary>
    public string TokenKey { get; } = shared.Key("fleet", fleetId, "token");

    /// <summary>The pub/sub channel: <c>token</c> (a new token was written), <c>rejected:&lt;version&gt;</c> (Vault refused it).</summary>
    public string Channel { get; } = shared.Key("fleet", fleetId, "events");

    public static string Holder(string replica, long epoch) => $"{replica}:{epoch}";

    /// <summary>The new epoch when this replica took the lease, 0 when another holds it, null when Redis did not answer.</summary>
    public async Task<long?> TryAcquireAsync(string replica, TimeSpan lease, CancellationToken cancellationToken)
    {
        var result = await shared.RunAsync(
            db => db.ScriptEvaluateAsync(AcquireScript, [LeaderKey, EpochKey], [replica, (long)lease.TotalMilliseconds]), cancellationToken).ConfigureAwait(false);
        return result.Ok ? (long)result.Value! : null;
    }

    /// <summary>True: still held and extended; false: lost (expired, taken over); null: Redis did not answer.</summary>
    public async Task<bool?> RenewAsync(string holder, TimeSpan lease, CancellationToken cancellationToken)
    {
        var result = await shared.RunAsync(
            db => db.ScriptEvaluateAsync(RenewScript, [LeaderKey], [holder, (long)lease.TotalMilliseconds]), cancellationToken).ConfigureAwait(false);
        return result.Ok ? (long)result.Value! == 1 : null;
    }

    public async Task ReleaseAsync(string holder, CancellationToken cancellationToken) =>
        await shared.RunAsync(db => db.ScriptEvaluateAsync(ReleaseScript, [LeaderKey], [holder]), cancellationToken).ConfigureAwait(false);

    /// <summary>True when some replica holds the lease; null when Redis did not answer.</summary>
    public async Task<bool?> LeaderExistsAsync(CancellationToken cancellationToken)
    {
        var result = await shared.RunAsync(db => db.KeyExistsAsync(LeaderKey), cancellationToken).ConfigureAwait(false);
        return result.Ok ? result.Value : null;
    }

    /// <summary>Seals <paramref name="plaintext"/> for the token record and writes it with the writer's epoch (fenced).</summary>
    public async Task<(FleetWrite Outcome, long Version)> WriteTokenAsync(long epoch, ReadOnlyMemory<byte> plaintext, TimeSpan? keep, CancellationToken cancellationToken)
    {
        var sealedValue = shared.Sealer.Seal(TokenKey, plaintext.Span);
        var keepMs = keep is { } k && k > TimeSpan.Zero ? (long)Math.Ceiling(k.TotalMilliseconds) : 0;
        var result = await shared.RunAsync(
            db => db.ScriptEvaluateAsync(WriteScript, [TokenKey, EpochKey], [epoch, sealedValue, keepMs]), cancellationToken).ConfigureAwait(false);
        if (!result.Ok)
            return (FleetWrite.Failed, 0);
        var version = (long)result.Value!;
        return version < 0 ? (FleetWrite.Stale, 0) : (FleetWrite.Written, version);
    }

    /// <summary>
    /// The token record: its version and the opened plaintext (null when absent, or when it does not open here: the
    /// store has logged why). Failed when Redis did not answer.
    /// </summary>
    /// <param name="known">A version the caller has already read: it is not opened again (nor logged again when it does not open).</param>
    public async Task<SharedResult<(long Version, byte[]? Plaintext)>> ReadTokenAsync(CancellationToken cancellationToken, long known = -1)
    {
        var result = await shared.RunAsync(db => db.HashGetAsync(TokenKey, ["version", "sealed"]), cancellationToken).ConfigureAwait(false);
        if (!result.Ok)
            return SharedResult<(long, byte[]?)>.Failed(result.Failure!);
        var values = result.Value!;
        if (values[0].IsNull || values[1].IsNull)
            return SharedResult<(long, byte[]?)>.Success((0, null));
        var version = (long)values[0];
        return SharedResult<(long, byte[]?)>.Success((version, version == known ? null : shared.Open(TokenKey, (byte[])values[1]!)));
    }
}
