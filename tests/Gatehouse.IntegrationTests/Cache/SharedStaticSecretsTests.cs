using System.Net;
using System.Net.Http.Json;
using Gatehouse.Cache.Static;
using StackExchange.Redis;
using static Gatehouse.IntegrationTests.Cache.FleetHarness;

namespace Gatehouse.IntegrationTests.Cache;

/// <summary>
/// Static secrets shared by the fleet (issue 17) against a real redis-server, DevVault (KV v2 at <c>kv/</c>, tokens
/// with real policies) and three Gatehouse hosts: what a client is answered and what DevVault was asked decide.
/// </summary>
public sealed class SharedStaticSecretsTests
{
    private const string App = "/v1/kv/data/app";

    private static readonly Gatehouse.Cache.CacheKey AppKey = StaticSecretCache.KeyOf(new StaticSecretInfo("", "kv/", 2, "app", null));

    /// <summary>Reads the secret through replica 0 with a new reader token, and waits until the secret and the grant are in Redis.</summary>
    private static async Task<string> ReadThroughFirstAsync(FleetHarness fleet)
    {
        var token = await fleet.TokenAsync("reader");
        var written = Written(fleet[0], "secret", "grant");
        using var read = await fleet[0].SendAsync(HttpMethod.Get, App, token);
        Assert.Equal("MISS", XCache(read));
        Assert.Equal("pw-1", Password(await ReadJson(read)));
        await written;
        return token;
    }

    [Fact]
    public async Task StaticSecretReadThroughOne_IsServedByAnother_ToTheSameToken_WithoutAVaultRead()
    {
        await using var fleet = await StartAsync(staticSecrets: true);
        var token = await ReadThroughFirstAsync(fleet);

        foreach (var i in new[] { 1, 2, 1 })
        {
            using var hit = await fleet[i].SendAsync(HttpMethod.Get, App, token);
            Assert.Equal("HIT", XCache(hit));
            Assert.Equal("pw-1", Password(await ReadJson(hit)));
        }

        Assert.Equal(1, fleet.Vault.Faults.CountRequests("GET", App));
        // The copy stays on the replica that took it: later hits there are local.
        Assert.NotNull(fleet[1].Static.TryHit(AppKey, fleet.Time.GetUtcNow()));
    }

    [Fact]
    public async Task TokenWithoutAGrant_IsNotServedByAnotherReplica_VaultRefusesIt()
    {
        await using var fleet = await StartAsync(staticSecrets: true);
        await ReadThroughFirstAsync(fleet);
        var outsider = await fleet.TokenAsync("default");

        for (var i = 0; i < 2; i++)
        {
            using var denied = await fleet[1].SendAsync(HttpMethod.Get, App, outsider);
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            Assert.NotEqual("HIT", XCache(denied));
            Assert.DoesNotContain("pw-1", await denied.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(3, fleet.Vault.Faults.CountRequests("GET", App));
    }

    [Fact]
    public async Task KvWriteThroughOne_MakesAnotherServeTheNewValue()
    {
        await using var fleet = await StartAsync(staticSecrets: true);
        var token = await ReadThroughFirstAsync(fleet);
        using (var hit = await fleet[1].SendAsync(HttpMethod.Get, App, token))
        {
            Assert.Equal("HIT", XCache(hit));
        }

        // A write is told to the fleet twice, before it goes to Vault and after Vault answers; a fill on replica 1 that
        // overlaps the second message is (rightly) not kept, so wait for both before reading there.
        var applied = fleet[1].Applied("static_secret", count: 2);
        using (var write = await fleet[0].SendAsync(HttpMethod.Post, App, token, new { data = new { password = "pw-2" } }))
        {
            Assert.True(write.IsSuccessStatusCode, await write.Content.ReadAsStringAsync());
        }

        await applied;
        var written = Written(fleet[1], "secret");
        using (var fresh = await fleet[1].SendAsync(HttpMethod.Get, App, token))
        {
            Assert.Equal("MISS", XCache(fresh));
            Assert.Equal("pw-2", Password(await ReadJson(fresh)));
        }

        // What replica 1 read is the fleet's now: replica 2 is served it without asking Vault.
        await written;
        using var third = await fleet[2].SendAsync(HttpMethod.Get, App, token);
        Assert.Equal("HIT", XCache(third));
        Assert.Equal("pw-2", Password(await ReadJson(third)));
        Assert.Equal(2, fleet.Vault.Faults.CountRequests("GET", App));
    }

    [Fact]
    public async Task CacheClearOnOne_ClearsTheOthersCopies_AndWhatRedisHolds()
    {
        await using var fleet = await StartAsync(staticSecrets: true);
        var token = await ReadThroughFirstAsync(fleet);
        using (var hit = await fleet[1].SendAsync(HttpMethod.Get, App, token))
        {
            Assert.Equal("HIT", XCache(hit));
        }

        var applied = new[] { fleet[0].Applied("clear_all"), fleet[1].Applied("clear_all") };
        using (var clear = await fleet[2].Client.PostAsJsonAsync("/proxy/v1/cache-clear", new { type = "all" }))
        {
            Assert.Equal(HttpStatusCode.OK, clear.StatusCode);
        }

        await Task.WhenAll(applied);
        Assert.Null(fleet[0].Static.TryHit(AppKey, fleet.Time.GetUtcNow()));
        Assert.Null(fleet[1].Static.TryHit(AppKey, fleet.Time.GetUtcNow()));
        // Redis still holds the record written before the clear: no replica takes it.
        using var after = await fleet[1].SendAsync(HttpMethod.Get, App, token);
        Assert.Equal("MISS", XCache(after));
        Assert.Equal("pw-1", Password(await ReadJson(after)));
        Assert.Equal(2, fleet.Vault.Faults.CountRequests("GET", App));
    }

    [Fact]
    public async Task CacheClearOfARequestPathOnOne_RetiresTheFleetsStaticRecords()
    {
        await using var fleet = await StartAsync(staticSecrets: true);
        var token = await ReadThroughFirstAsync(fleet);
        var applied = fleet[0].Applied("clear_request_path");
        using (var clear = await fleet[2].Client.PostAsJsonAsync("/proxy/v1/cache-clear", new { type = "request_path", value = "/v1/kv/" }))
        {
            Assert.Equal(HttpStatusCode.OK, clear.StatusCode);
        }

        await applied;
        using var after = await fleet[1].SendAsync(HttpMethod.Get, App, token);
        Assert.Equal("MISS", XCache(after));
        Assert.Equal(2, fleet.Vault.Faults.CountRequests("GET", App));
    }

    [Fact]
    public async Task CapabilityLossFoundByOne_ReachesTheOthers()
    {
        await using var fleet = await StartAsync(staticSecrets: true);
        var token = await ReadThroughFirstAsync(fleet);
        using (var hit = await fleet[1].SendAsync(HttpMethod.Get, App, token))
        {
            Assert.Equal("HIT", XCache(hit));
        }

        await fleet.RootAsync(HttpMethod.Put, "/v1/sys/policies/acl/reader", new { policy = "path \"kv/data/other\" { capabilities = [\"read\"] }" });
        var applied = fleet[1].Applied("static_grant");
        // Only replica 0 runs its capability refresh: the others hear of the loss from it.
        var first = fleet[0].Static;
        await first.RunPassAsync("capability refresh", first.RefreshCapabilitiesAsync, CancellationToken.None);
        await applied;

        foreach (var i in new[] { 1, 2 })
        {
            using var denied = await fleet[i].SendAsync(HttpMethod.Get, App, token);
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            Assert.DoesNotContain("pw-1", await denied.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(3, fleet.Vault.Faults.CountRequests("GET", App));
        Assert.Equal(1, fleet.Vault.Faults.CountRequests("POST", "/v1/sys/capabilities-self"));
    }

    [Fact]
    public async Task TokenRevokedThroughOne_IsNotServedByAnother()
    {
        await using var fleet = await StartAsync(staticSecrets: true);
        var token = await ReadThroughFirstAsync(fleet);
        using (var hit = await fleet[1].SendAsync(HttpMethod.Get, App, token))
        {
            Assert.Equal("HIT", XCache(hit));
        }

        var applied = fleet[1].Applied("static_token");
        using (var revoke = await fleet[0].SendAsync(HttpMethod.Post, "/v1/auth/token/revoke-self", token))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        await applied;
        foreach (var i in new[] { 1, 2 })
        {
            using var denied = await fleet[i].SendAsync(HttpMethod.Get, App, token);
            Assert.NotEqual("HIT", XCache(denied));
            Assert.DoesNotContain("pw-1", await denied.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RevalidationThatFindsAChange_OnOne_ReplacesTheOthersCopies()
    {
        await using var fleet = await StartAsync(staticSecrets: true);
        var token = await ReadThroughFirstAsync(fleet);
        using (var hit = await fleet[1].SendAsync(HttpMethod.Get, App, token))
        {
            Assert.Equal("HIT", XCache(hit));
        }

        // Written straight to Vault: only a revalidation sees it, and only replica 0 runs one.
        await fleet.RootAsync(HttpMethod.Post, App, new { data = new { password = "pw-2" } });
        var written = Written(fleet[0], "secret");
        var applied = fleet[1].Applied("static_secret");
        var first = fleet[0].Static;
        await first.RunPassAsync("revalidation", ct => first.RevalidateAsync(null, ct), CancellationToken.None);
        await Task.WhenAll(written, applied);

        // Replica 1 dropped its copy and takes the new answer from Redis: no read of its own.
        using var fresh = await fleet[1].SendAsync(HttpMethod.Get, App, token);
        Assert.Equal("HIT", XCache(fresh));
        Assert.Equal("pw-2", Password(await ReadJson(fresh)));
        Assert.Equal(2, fleet.Vault.Faults.CountRequests("GET", App));
    }

    [Fact]
    public async Task AfterARedisOutage_ALocalFleetCopy_IsRecheckedBeforeItIsServed()
    {
        await using var fleet = await StartAsync(staticSecrets: true);
        var token = await ReadThroughFirstAsync(fleet);
        using (var hit = await fleet[1].SendAsync(HttpMethod.Get, App, token))
        {
            Assert.Equal("HIT", XCache(hit));
        }

        // While Redis is away the copy is served as any local entry is.
        var down = StateReached(fleet[1], up: false);
        fleet.Redis.Kill();
        await down;
        using (var meanwhile = await fleet[1].SendAsync(HttpMethod.Get, App, token))
        {
            Assert.Equal("HIT", XCache(meanwhile));
        }

        // Redis returns empty (no persistence): messages may have been lost, and it no longer holds that answer.
        var rejoined = Rejoined(fleet[1]);
        fleet.Redis.Start();
        await rejoined;
        using var after = await fleet[1].SendAsync(HttpMethod.Get, App, token);
        Assert.Equal("MISS", XCache(after));
        Assert.Equal("pw-1", Password(await ReadJson(after)));
        Assert.Equal(2, fleet.Vault.Faults.CountRequests("GET", App));
        await fleet[1].Log.WaitForAsync("Dropped local copy of static secret", Bound);
    }

    [Fact]
    public async Task WrongKeyOnOneReplica_NeverTakesTheFleetsStaticSecrets()
    {
        await using var fleet = await StartAsync(otherKeyReplica: 2, staticSecrets: true);
        var token = await ReadThroughFirstAsync(fleet);
        // The fleet's record is there to be taken (replica 1 takes it), just not by a replica with another key.
        using (var hit = await fleet[1].SendAsync(HttpMethod.Get, App, token))
        {
            Assert.Equal("HIT", XCache(hit));
        }

        using var read = await fleet[2].SendAsync(HttpMethod.Get, App, token);
        Assert.Equal("MISS", XCache(read));
        Assert.Equal("pw-1", Password(await ReadJson(read)));
        Assert.Equal(2, fleet.Vault.Faults.CountRequests("GET", App));
    }

    [Fact]
    public async Task CorruptStaticRecordsInRedis_AreIgnored_NeverServed()
    {
        await using var fleet = await StartAsync(staticSecrets: true);
        var token = await ReadThroughFirstAsync(fleet);
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(fleet.Redis.Address))
        {
            var server = redis.GetServer(redis.GetEndPoints()[0]);
            var db = redis.GetDatabase();
            await foreach (var key in server.KeysAsync(pattern: fleet[0].Store.KeyPrefix + "ss:*"))
            {
                foreach (var field in await db.HashGetAllAsync(key))
                {
                    if (!field.Name.ToString().StartsWith("v:", StringComparison.Ordinal))
                    {
                        byte[] value = field.Value!;
                        value[^1] ^= 0xFF;
                        await db.HashSetAsync(key, field.Name, value);
                    }
                }
            }
        }

        using var read = await fleet[1].SendAsync(HttpMethod.Get, App, token);
        Assert.Equal("MISS", XCache(read));
        Assert.Equal("pw-1", Password(await ReadJson(read)));
        Assert.Equal(2, fleet.Vault.Faults.CountRequests("GET", App));
        await fleet[1].Log.WaitForAsync("Ignoring shared static-secret data", Bound);
    }

    private static string Password(System.Text.Json.Nodes.JsonNode body) => body["data"]!["data"]!["password"]!.ToString();

    /// <summary>Completes when the replica has written each of <paramref name="kinds"/> to Redis.</summary>
    private static Task Written(Replica replica, params string[] kinds)
    {
        var left = new HashSet<string>(kinds);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        replica.Static.Shared!.Written += kind =>
        {
            lock (left)
            {
                if (left.Remove(kind) && left.Count == 0)
                {
                    done.TrySetResult();
                }
            }
        };
        return done.Task.WaitAsync(Bound);
    }
}
