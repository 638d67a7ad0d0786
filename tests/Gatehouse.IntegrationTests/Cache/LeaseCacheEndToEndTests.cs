using System.Net;
using System.Net.Http.Json;
using static Gatehouse.IntegrationTests.Cache.CacheHarness;

namespace Gatehouse.IntegrationTests.Cache;

public sealed class LeaseCacheEndToEndTests
{
    [Fact]
    public async Task LeaseCache_IdenticalApproleLogins_ReturnSameTokenAsHit()
    {
        await using var h = await StartAsync();
        using var first = await h.LoginAsync();
        using var second = await h.LoginAsync();
        Assert.Equal("MISS", XCache(first));
        Assert.Equal("HIT", XCache(second));
        Assert.True(second.Headers.Contains("Age"));
        Assert.Equal((await ReadJson(first))["auth"]!["client_token"]!.ToString(), (await ReadJson(second))["auth"]!["client_token"]!.ToString());
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", "/v1/auth/approle/login"));
    }

    [Fact]
    public async Task LeaseCache_LoginWithDifferentBody_GetsDifferentToken()
    {
        await using var h = await StartAsync();
        var other = (await ReadJson(await h.Root.PostAsync("/v1/auth/approle/role/app/secret-id", null)))["data"]!["secret_id"]!.ToString();
        using var first = await h.LoginAsync();
        using var second = await h.LoginAsync(other);
        Assert.Equal("MISS", XCache(second));
        Assert.NotEqual((await ReadJson(first))["auth"]!["client_token"]!.ToString(), (await ReadJson(second))["auth"]!["client_token"]!.ToString());
    }

    [Fact]
    public async Task LeaseCache_UnrelatedHeaderDifference_StillHits()
    {
        await using var h = await StartAsync();
        using var first = await h.LoginAsync();
        h.Client.DefaultRequestHeaders.UserAgent.ParseAdd("other-app/2.0");
        using var second = await h.LoginAsync();
        Assert.Equal("HIT", XCache(second));
    }

    [Fact]
    public async Task LeaseCache_TokenCreateUnderCachedToken_IsCachedChild()
    {
        await using var h = await StartAsync();
        var parent = await h.LoginTokenAsync();
        using var first = await h.SendAsync(HttpMethod.Post, "/v1/auth/token/create", parent, new { ttl = "1h" });
        using var second = await h.SendAsync(HttpMethod.Post, "/v1/auth/token/create", parent, new { ttl = "1h" });
        Assert.Equal("HIT", XCache(second));
        var child = (await ReadJson(second))["auth"]!["client_token"]!.ToString();
        Assert.Equal(parent, h.Cache.Index.GetByToken(child)!.TokenParent);
    }

    [Fact]
    public async Task LeaseCache_TokenCreateUnderUnmanagedToken_IsNotCached()
    {
        await using var h = await StartAsync();
        using var first = await h.SendAsync(HttpMethod.Post, "/v1/auth/token/create", h.Vault.RootToken, new { ttl = "1h" });
        using var second = await h.SendAsync(HttpMethod.Post, "/v1/auth/token/create", h.Vault.RootToken, new { ttl = "1h" });
        Assert.Equal("MISS", XCache(second));
    }

    [Fact]
    public async Task LeaseCache_LeasedKv_SameLeaseRenewedOnScheduleThenEvictedWhenRefused()
    {
        await using var h = await StartAsync();
        var token = await h.LoginTokenAsync();
        using var first = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        using var second = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        Assert.Equal("HIT", XCache(second));
        var lease = (await ReadJson(first))["lease_id"]!.ToString();
        Assert.Equal(lease, (await ReadJson(second))["lease_id"]!.ToString());

        // 30 min TTL: renewed at about 20 min.
        await h.AdvanceAsync(TimeSpan.FromMinutes(19));
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", "/v1/sys/leases/renew"));
        await h.AdvanceAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", "/v1/sys/leases/renew"));
        Assert.NotNull(h.Cache.Index.GetByLease(lease));

        // Revoked behind the proxy's back: the next renewal is refused and the entry goes.
        using (await h.Root.PutAsJsonAsync("/v1/sys/leases/revoke", new { lease_id = lease }))
        {
        }

        await h.AdvanceAsync(TimeSpan.FromMinutes(21));
        Assert.Null(h.Cache.Index.GetByLease(lease));
        using var third = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        Assert.Equal("MISS", XCache(third));
    }

    [Fact]
    public async Task LeaseCache_NonLeasedKvRead_IsNeverCached()
    {
        await using var h = await StartAsync();
        var token = await h.LoginTokenAsync();
        using var first = await h.SendAsync(HttpMethod.Get, "/v1/secret/plain", token);
        using var second = await h.SendAsync(HttpMethod.Get, "/v1/secret/plain", token);
        Assert.Equal("MISS", XCache(second));
    }

    [Fact]
    public async Task LeaseCache_Hit_ReportsAgeAdjustedTtl()
    {
        await using var h = await StartAsync();
        var token = await h.LoginTokenAsync();
        using var first = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        Assert.Equal(1800, (long)(await ReadJson(first))["lease_duration"]!);
        h.Time.Advance(TimeSpan.FromMinutes(5));
        using var second = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        Assert.Equal(1500, (long)(await ReadJson(second))["lease_duration"]!);
        Assert.Equal("300", second.Headers.GetValues("Age").Single());

        using var login = await h.LoginAsync();
        Assert.Equal("HIT", XCache(login));
        Assert.Equal(3300, (long)(await ReadJson(login))["auth"]!["lease_duration"]!);
    }

    [Fact]
    public async Task LeaseCache_RenewalResponses_AreNeverCached()
    {
        await using var h = await StartAsync();
        var token = await h.LoginTokenAsync();
        using var read = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        var lease = (await ReadJson(read))["lease_id"]!.ToString();
        using var r1 = await h.SendAsync(HttpMethod.Put, "/v1/sys/leases/renew", token, new { lease_id = lease });
        using var r2 = await h.SendAsync(HttpMethod.Put, "/v1/sys/leases/renew", token, new { lease_id = lease });
        Assert.Equal("MISS", XCache(r2));
        using var t1 = await h.SendAsync(HttpMethod.Put, "/v1/auth/token/renew-self", token, new { });
        using var t2 = await h.SendAsync(HttpMethod.Put, "/v1/auth/token/renew-self", token, new { });
        Assert.Equal("MISS", XCache(t2));
        Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", "/v1/auth/token/renew-self"));
    }

    [Fact]
    public async Task LeaseCache_ThousandConcurrentIdenticalLogins_MakeOneUpstreamLogin()
    {
        await using var h = await StartAsync();
        var responses = await Task.WhenAll(Enumerable.Range(0, 1000).Select(_ => h.LoginAsync()));
        var tokens = new HashSet<string>();
        foreach (var response in responses)
        {
            tokens.Add((await ReadJson(response))["auth"]!["client_token"]!.ToString());
            response.Dispose();
        }

        Assert.Single(tokens);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", "/v1/auth/approle/login"));
    }

    [Fact]
    public async Task LeaseCache_ConcurrentIdenticalNonCacheableRequests_AreEachForwarded()
    {
        await using var h = await StartAsync();
        var token = await h.LoginTokenAsync();

        // Slow answers make the identical requests overlap, so all but the first wait in flight, then go on their own.
        h.Vault.Faults.ResponseDelay = TimeSpan.FromMilliseconds(200);
        var writes = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => h.SendAsync(HttpMethod.Put, "/v1/secret/written", token, new { value = "same" })));
        var reads = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => h.SendAsync(HttpMethod.Get, "/v1/secret/plain", token)));
        h.Vault.Faults.ResponseDelay = TimeSpan.Zero;
        foreach (var response in writes.Concat(reads))
        {
            Assert.True(response.IsSuccessStatusCode);
            Assert.Equal("MISS", XCache(response));
            response.Dispose();
        }

        Assert.Equal(20, h.Vault.Faults.CountRequests("PUT", "/v1/secret/written"));
        Assert.Equal(20, h.Vault.Faults.CountRequests("GET", "/v1/secret/plain"));
        Assert.Equal(1, h.Cache.Index.Count); // only the login
    }

    [Fact]
    public async Task LeaseCache_TokenRenewedInBackground_ViaRenewSelf()
    {
        await using var h = await StartAsync();
        await h.LoginTokenAsync();
        await h.AdvanceAsync(TimeSpan.FromMinutes(41));
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", "/v1/auth/token/renew-self"));
    }

    [Fact]
    public async Task LeaseCache_AutoAuthToken_MakesItsLeasesCacheable()
    {
        await using var h = await StartAsync();
        var token = (await ReadJson(await h.Root.PostAsJsonAsync("/v1/auth/token/create", new { ttl = "1h" })))["auth"]!["client_token"]!.ToString();
        h.Host.TokenStore.Publish(new Gatehouse.AutoAuth.AutoAuthToken(token, null, h.Time.GetUtcNow(), TimeSpan.FromHours(1), true));
        using var first = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        using var second = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        Assert.Equal("HIT", XCache(second));
        await h.AdvanceAsync(TimeSpan.FromMinutes(41));
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", "/v1/auth/token/renew-self"));
        Assert.True(h.Vault.Faults.CountRequests("PUT", "/v1/sys/leases/renew") >= 1);
    }

    [Fact]
    public async Task LeaseCache_WhenFull_ServesButDoesNotCache()
    {
        await using var h = await StartAsync(c => c with { MaxEntries = 1 });
        var token = await h.LoginTokenAsync();
        using var first = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        using var second = await h.SendAsync(HttpMethod.Get, "/v1/secret/db", token);
        Assert.Equal("MISS", XCache(second));
        Assert.Equal(1, h.Cache.Index.Count);
    }
}
