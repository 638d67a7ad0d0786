using System.Net;
using System.Net.Http.Json;
using Gatehouse.Cache;
using StackExchange.Redis;
using static Gatehouse.IntegrationTests.Cache.FleetHarness;

namespace Gatehouse.IntegrationTests.Cache;

/// <summary>
/// Shared lease-cache entries (issue 17, part B) against a real redis-server, DevVault and three Gatehouse hosts.
/// </summary>
public sealed class SharedCacheTests
{
    /// <summary>A login through replica 0 and a lease read with its token through replica 0.</summary>
    internal static async Task<(string Token, string Lease)> LoginAndLeaseAsync(FleetHarness fleet)
    {
        var kinds = new System.Collections.Concurrent.ConcurrentQueue<CacheEntryKind>();
        fleet[0].Shared.Written += entry => kinds.Enqueue(entry.Kind);
        var written = fleet[0].Writes(2);
        using var login = await fleet.LoginAsync(0);
        Assert.Equal("MISS", XCache(login));
        var token = (await ReadJson(login))["auth"]!["client_token"]!.ToString();
        using var read = await fleet[0].SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        Assert.Equal("MISS", XCache(read));
        var lease = (await ReadJson(read))["lease_id"]!.ToString();
        await written;
        // Each entry is sealed and written once: the login's in-flight owner waits for the write already under way.
        Assert.Equal(2, kinds.Count);
        Assert.Single(kinds, kind => kind == CacheEntryKind.Token);
        Assert.Single(kinds, kind => kind == CacheEntryKind.Lease);
        return (token, lease);
    }

    [Fact]
    public async Task LeaseCreatedThroughOne_IsServedByAnother()
    {
        await using var fleet = await StartAsync();
        var (token, lease) = await LoginAndLeaseAsync(fleet);

        using var login = await fleet.LoginAsync(1);
        Assert.Equal("HIT", XCache(login));
        Assert.Equal(token, (await ReadJson(login))["auth"]!["client_token"]!.ToString());
        using var read = await fleet[2].SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        Assert.Equal("HIT", XCache(read));
        Assert.Equal(lease, (await ReadJson(read))["lease_id"]!.ToString());

        Assert.Equal(1, fleet.Vault.Faults.CountRequests("PUT", "/v1/auth/approle/login"));
        Assert.Equal(1, fleet.Vault.Faults.CountRequests("GET", "/v1/secret/db"));
        // Replica 2 took the token entry too (the lease's parent), so the subtree rules hold there.
        Assert.NotNull(fleet[2].Cache.Index.GetByToken(token));
    }

    [Fact]
    public async Task LeaseUnderTheFleetsAutoAuthToken_FetchedThroughOne_IsServedByAnother()
    {
        await using var fleet = await StartAsync(autoAuth: true);
        var changed = new SemaphoreSlim(0);
        foreach (var replica in fleet.Replicas)
        {
            replica.Host.TokenStore.Published += _ => changed.Release();
        }

        using (var timeout = new CancellationTokenSource(Bound))
        {
            while (fleet.Replicas.Select(r => r.Host.TokenStore.Current?.Token).Distinct().Count() != 1 || fleet[0].Host.TokenStore.Current is null)
            {
                await changed.WaitAsync(timeout.Token);
            }
        }

        var written = fleet[0].Writes(1);
        using (var miss = await fleet[0].SendAsync(HttpMethod.Get, "/v1/secret/db", token: null))
        {
            Assert.Equal("MISS", XCache(miss));
        }

        await written;
        using var hit = await fleet[1].SendAsync(HttpMethod.Get, "/v1/secret/db", token: null);
        Assert.Equal("HIT", XCache(hit));
        await ReadJson(hit);
        Assert.Equal(1, fleet.Vault.Faults.CountRequests("GET", "/v1/secret/db"));
        Assert.Equal(1, fleet.Vault.Faults.CountRequests("PUT", "/v1/auth/approle/login"));
    }

    [Fact]
    public async Task RevocationThroughOne_EvictsEverywhere_EvenOnAReplicaThatNeverHeldIt()
    {
        await using var fleet = await StartAsync();
        var (token, lease) = await LoginAndLeaseAsync(fleet);
        using (var hit = await fleet[1].SendAsync(HttpMethod.Get, "/v1/secret/db", token))
        {
            Assert.Equal("HIT", XCache(hit));
        }

        var applied0 = fleet[0].Applied("lease");
        var applied1 = fleet[1].Applied("lease");
        // Replica 2 never held the lease: it revokes it, the others evict it, Redis forgets it.
        using (var revoke = await fleet[2].SendAsync(HttpMethod.Put, "/v1/sys/leases/revoke", token, new { lease_id = lease }))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        await Task.WhenAll(applied0, applied1);
        Assert.Null(fleet[0].Cache.Index.GetByLease(lease));
        Assert.Null(fleet[1].Cache.Index.GetByLease(lease));
        using var again = await fleet[2].SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        Assert.Equal("MISS", XCache(again));
        Assert.NotEqual(lease, (await ReadJson(again))["lease_id"]!.ToString());
    }

    [Fact]
    public async Task CacheClearOnOne_ReachesAll()
    {
        await using var fleet = await StartAsync();
        var (token, _) = await LoginAndLeaseAsync(fleet);
        using (var hit = await fleet[1].SendAsync(HttpMethod.Get, "/v1/secret/db", token))
        {
            Assert.Equal("HIT", XCache(hit));
        }

        var applied0 = fleet[0].Applied("clear_all");
        var applied1 = fleet[1].Applied("clear_all");
        using (var clear = await fleet[2].Client.PostAsJsonAsync("/proxy/v1/cache-clear", new { type = "all" }))
        {
            Assert.Equal(HttpStatusCode.OK, clear.StatusCode);
        }

        await Task.WhenAll(applied0, applied1);
        Assert.Equal(0, fleet[0].Cache.Index.Count);
        Assert.Equal(0, fleet[1].Cache.Index.Count);
        // What Redis still holds was written before the clear: no replica takes it.
        using var login = await fleet.LoginAsync(2);
        Assert.Equal("MISS", XCache(login));
        Assert.Equal(2, fleet.Vault.Faults.CountRequests("PUT", "/v1/auth/approle/login"));
    }

    [Fact]
    public async Task EachLease_IsRenewedByExactlyOneReplicaPerPeriod()
    {
        await using var fleet = await StartAsync();
        var (token, lease) = await LoginAndLeaseAsync(fleet);
        foreach (var i in new[] { 1, 2 })
        {
            using var hit = await fleet[i].SendAsync(HttpMethod.Get, "/v1/secret/db", token);
            Assert.Equal("HIT", XCache(hit));
        }

        // The lease has 30 minutes: every replica's renewal comes due at 20; one renews, the others adopt its answer.
        await fleet.AdvanceAsync(TimeSpan.FromMinutes(20));
        await fleet.AdvanceAsync(TimeSpan.FromSeconds(1));
        await fleet.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(1, fleet.Vault.Faults.CountRequests("PUT", "/v1/sys/leases/renew"));
        var expiries = fleet.Replicas.Select(r => r.Cache.Index.GetByLease(lease)!.Lifetime.ExpiresAt).Distinct().ToList();
        Assert.Single(expiries);
        Assert.True(expiries[0] > fleet.Time.GetUtcNow().AddMinutes(25), $"{expiries[0]} is not a renewed lifetime");

        // The next period: again one renewal.
        await fleet.AdvanceAsync(TimeSpan.FromMinutes(20));
        await fleet.AdvanceAsync(TimeSpan.FromSeconds(1));
        await fleet.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Equal(2, fleet.Vault.Faults.CountRequests("PUT", "/v1/sys/leases/renew"));
    }

    [Fact]
    public async Task ConcurrentIdenticalTokenCreates_OverThreeReplicas_AreOneVaultRequest()
    {
        await using var fleet = await StartAsync();
        var (token, _) = await LoginAndLeaseAsync(fleet);
        foreach (var i in new[] { 1, 2 })
        {
            using var hit = await fleet.LoginAsync(i);
            Assert.Equal("HIT", XCache(hit));
        }

        var creates = Enumerable.Range(0, 12).Select(async i =>
        {
            using var response = await fleet[i % 3].SendAsync(HttpMethod.Post, "/v1/auth/token/create", token, new { ttl = "1h", policies = new[] { "all" } });
            return (await ReadJson(response))["auth"]!["client_token"]!.ToString();
        });
        var tokens = await Task.WhenAll(creates);

        Assert.Single(tokens.Distinct());
        Assert.Equal(1, fleet.Vault.Faults.CountRequests("POST", "/v1/auth/token/create"));
    }

    [Fact]
    public async Task RedisKilledAndRestarted_NoFailedRequests_AndNothingRevokedServedAfterRejoin()
    {
        await using var fleet = await StartAsync();
        var (token, lease) = await LoginAndLeaseAsync(fleet);
        using (var hit = await fleet[1].SendAsync(HttpMethod.Get, "/v1/secret/db", token))
        {
            Assert.Equal("HIT", XCache(hit));
        }

        var down = fleet.Replicas.Select(r => StateReached(r, up: false)).ToList();
        fleet.Redis.Kill();
        // Requests keep being answered while Redis is away (local cache and Vault).
        for (var i = 0; i < 9; i++)
        {
            using var response = await fleet[i % 3].SendAsync(HttpMethod.Get, "/v1/secret/db", token);
            await ReadJson(response);
        }

        await Task.WhenAll(down);
        // Revoked through replica 2 while Redis is away: replica 1's copy cannot hear of it now.
        using (var revoke = await fleet[2].SendAsync(HttpMethod.Put, "/v1/sys/leases/revoke", token, new { lease_id = lease }))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        var rejoined = fleet.Replicas.Select(Rejoined).ToList();
        fleet.Redis.Start();
        await Task.WhenAll(rejoined);

        // After the rejoin, replica 1 re-checks its copy before serving it: Redis no longer holds it, so Vault answers.
        using var after = await fleet[1].SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        var answer = await ReadJson(after);
        Assert.Equal("MISS", XCache(after));
        Assert.NotEqual(lease, answer["lease_id"]!.ToString());
    }

    [Fact]
    public async Task WrongKeyOnOneReplica_CannotReadTheFleetsEntries_AndSaysSo()
    {
        await using var fleet = await StartAsync(otherKeyReplica: 2);
        await LoginAndLeaseAsync(fleet);

        using var login = await fleet.LoginAsync(2);
        Assert.Equal("MISS", XCache(login));
        await ReadJson(login);
        Assert.Equal(2, fleet.Vault.Faults.CountRequests("PUT", "/v1/auth/approle/login"));
        await fleet[2].Log.WaitForAsync($"but this replica's key id is {fleet[2].Store.Keys.KeyIdText}", Bound);
    }

    [Fact]
    public async Task CorruptEntryBytesInRedis_AreIgnored_NeverServed()
    {
        await using var fleet = await StartAsync();
        await LoginAndLeaseAsync(fleet);
        // Overwrite every entry the fleet holds with bytes that are no envelope, and one with a damaged envelope.
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(fleet.Redis.Address))
        {
            var server = redis.GetServer(redis.GetEndPoints()[0]);
            var db = redis.GetDatabase();
            var first = true;
            await foreach (var key in server.KeysAsync(pattern: fleet[0].Store.KeyPrefix + "e:*"))
            {
                byte[] value = (await db.StringGetAsync(key))!;
                if (first)
                {
                    value[^1] ^= 0xFF;
                }
                else
                {
                    value = "not an envelope"u8.ToArray();
                }

                first = false;
                await db.StringSetAsync(key, value);
            }
        }

        using var login = await fleet.LoginAsync(1);
        Assert.Equal("MISS", XCache(login));
        await ReadJson(login);
        Assert.Equal(2, fleet.Vault.Faults.CountRequests("PUT", "/v1/auth/approle/login"));
        await fleet[1].Log.WaitForAsync("Ignoring shared cache data", Bound);
    }
}
