using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Gatehouse.Shared;
using Gatehouse.Testing;
using Microsoft.Extensions.Logging.Testing;

namespace Gatehouse.Tests.Shared;

/// <summary>The fleet lease and the fenced token write (Lua scripts) against a real redis-server.</summary>
public sealed class FleetLeasesTests : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private readonly RedisServer _redis = new();
    private readonly FakeLogger<SharedStore> _log = new();
    private SharedStore _store = null!;
    private FleetLeases _leases = null!;

    public async Task InitializeAsync()
    {
        var config = new SharedConfig { Type = "redis", Address = _redis.Address, KeyEnvVar = "unused", OperationTimeout = TimeSpan.FromSeconds(5) };
        _store = new SharedStore(config, SharedKeys.FromMaterial(new byte[32]), TimeProvider.System, _log);
        Assert.True(await _store.ConnectAsync(CancellationToken.None));
        _leases = new FleetLeases(_store, "fleet1");
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _redis.Dispose();
    }

    private async Task ExpireLeaseAsync() => await _store.RunAsync(db => db.KeyDeleteAsync(_leases.LeaderKey), CancellationToken.None);

    [Fact]
    public async Task Lease_IsTakenOnce_RenewedAndReleasedOnlyByItsHolder()
    {
        var first = await _leases.TryAcquireAsync("a", Lease, CancellationToken.None);
        var second = await _leases.TryAcquireAsync("b", Lease, CancellationToken.None);

        Assert.Equal(1, first);
        Assert.Equal(0, second);
        Assert.True(await _leases.RenewAsync(FleetLeases.Holder("a", 1), Lease, CancellationToken.None));
        Assert.False(await _leases.RenewAsync(FleetLeases.Holder("b", 1), Lease, CancellationToken.None));
        await _leases.ReleaseAsync(FleetLeases.Holder("b", 1), CancellationToken.None);
        Assert.True(await _leases.LeaderExistsAsync(CancellationToken.None));
        await _leases.ReleaseAsync(FleetLeases.Holder("a", 1), CancellationToken.None);
        Assert.False(await _leases.LeaderExistsAsync(CancellationToken.None));
        Assert.Equal(2, await _leases.TryAcquireAsync("b", Lease, CancellationToken.None));
    }

    [Fact]
    public async Task StaleLeader_CannotOverwriteTheToken_BeforeOrAfterTheNewLeaderWrites()
    {
        var stale = (await _leases.TryAcquireAsync("a", Lease, CancellationToken.None))!.Value;
        var (written, version) = await _leases.WriteTokenAsync(stale, "from-a"u8.ToArray(), null, CancellationToken.None);
        Assert.Equal(FleetWrite.Written, written);

        // a's lease runs out (a paused process); b takes the fleet with a higher epoch.
        await ExpireLeaseAsync();
        var current = (await _leases.TryAcquireAsync("b", Lease, CancellationToken.None))!.Value;
        var (beforeB, _) = await _leases.WriteTokenAsync(stale, "late-a"u8.ToArray(), null, CancellationToken.None);
        var (byB, versionB) = await _leases.WriteTokenAsync(current, "from-b"u8.ToArray(), TimeSpan.FromHours(1), CancellationToken.None);
        var (afterB, _) = await _leases.WriteTokenAsync(stale, "later-a"u8.ToArray(), null, CancellationToken.None);
        var read = await _leases.ReadTokenAsync(CancellationToken.None);

        Assert.True(current > stale);
        Assert.Equal(FleetWrite.Stale, beforeB);
        Assert.Equal(FleetWrite.Written, byB);
        Assert.Equal(FleetWrite.Stale, afterB);
        Assert.Equal(version + 1, versionB);
        Assert.Equal(versionB, read.Value.Version);
        Assert.Equal("from-b"u8.ToArray(), read.Value.Plaintext);
    }

    [Fact]
    public async Task TokenRecord_IsSealed_AndBoundToItsKey()
    {
        var epoch = (await _leases.TryAcquireAsync("a", Lease, CancellationToken.None))!.Value;
        await _leases.WriteTokenAsync(epoch, "hvs.fleet-token"u8.ToArray(), TimeSpan.FromHours(1), CancellationToken.None);

        var raw = await _store.RunAsync(db => db.HashGetAsync(_leases.TokenKey, "sealed"), CancellationToken.None);
        var copied = new FleetLeases(_store, "fleet2");
        await _store.RunAsync(async db =>
        {
            await db.HashSetAsync(copied.TokenKey, [new("version", 1), new("sealed", raw.Value)]);
            return true;
        }, CancellationToken.None);

        Assert.DoesNotContain("hvs.", System.Text.Encoding.Latin1.GetString((byte[])raw.Value!), StringComparison.Ordinal);
        Assert.StartsWith("gatehouse:fleet:fleet1:", _leases.TokenKey, StringComparison.Ordinal);
        Assert.Null((await copied.ReadTokenAsync(CancellationToken.None)).Value.Plaintext);
        Assert.Equal(1, _log.Collector.GetSnapshot().Count(r => r.Id.Id == LogEvents.SharedStoreCorrupt));

        // A version already read is not opened (nor reported) again.
        var again = await copied.ReadTokenAsync(CancellationToken.None, known: 1);
        Assert.Equal(1, again.Value.Version);
        Assert.Null(again.Value.Plaintext);
        Assert.Equal(1, _log.Collector.GetSnapshot().Count(r => r.Id.Id == LogEvents.SharedStoreCorrupt));
        Assert.Equal("hvs.fleet-token"u8.ToArray(), (await _leases.ReadTokenAsync(CancellationToken.None, known: 0)).Value.Plaintext);
        var ttl = await _store.RunAsync(db => db.KeyTimeToLiveAsync(_leases.TokenKey), CancellationToken.None);
        Assert.NotNull(ttl.Value);
    }
}
