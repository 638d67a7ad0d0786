using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Cache.Static;
using Gatehouse.IntegrationTests.Operations;
using Microsoft.Extensions.DependencyInjection;

namespace Gatehouse.IntegrationTests.Cache;

/// <summary>
/// The static-secret cache end to end: DevVault (KV v2 at <c>secret/</c>, KV v1 at <c>kv1/</c>), the real host loaded
/// from HCL, tokens with real policies that the tests change underneath, writes through Gatehouse and straight to
/// DevVault. What a client is answered, and what DevVault was asked, decide every test.
/// </summary>
public sealed class StaticSecretCacheEndToEndTests
{
    private const string Db = "/v1/secret/data/app/db";

    private const string ReaderPolicy = """
        path "secret/data/app/*" { capabilities = ["read", "create", "update", "delete"] }
        path "secret/metadata/app/*" { capabilities = ["read", "create", "update", "delete"] }
        path "secret/delete/app/*" { capabilities = ["update"] }
        path "secret/undelete/app/*" { capabilities = ["update"] }
        path "secret/destroy/app/*" { capabilities = ["update"] }
        path "kv1/*" { capabilities = ["read", "create", "update", "delete"] }
        """;

    [Fact]
    public async Task Static_SecondReadBySameToken_IsHitWithOneVaultRead()
    {
        await using var s = await StaticAsync();
        var token = await s.TokenAsync("reader");
        var (first, firstBody, _) = await s.ReadAsync(token, Db);
        var (second, secondBody, cache) = await s.ReadAsync(token, Db);
        Assert.Equal(200, first);
        Assert.Equal(200, second);
        Assert.Equal("HIT", cache);
        Assert.Equal(Password(firstBody), Password(secondBody));
        Assert.Equal(1, s.Vault.Faults.CountRequests("GET", Db));
    }

    [Fact]
    public async Task Static_ManyClientsOfOneToken_CostVaultOneReadAndOneMetadataReadPerRefresh()
    {
        await using var s = await StaticAsync();
        var token = await s.TokenAsync("reader");
        await s.ReadAsync(token, Db);
        var reads = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => s.ReadAsync(token, Db)));
        Assert.All(reads, r => Assert.Equal("HIT", r.Cache));
        Assert.Equal(1, s.Vault.Faults.CountRequests("GET", Db));

        // Two refresh intervals on the clock: the refresher's own timer runs two revalidations, one metadata read each.
        await s.AdvanceThroughPassAsync(TimeSpan.FromSeconds(30), "revalidation");
        await s.AdvanceThroughPassAsync(TimeSpan.FromSeconds(30), "revalidation");
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => s.ReadAsync(token, Db)));
        Assert.Equal(1, s.Vault.Faults.CountRequests("GET", Db));
        Assert.Equal(2, s.Vault.Faults.CountRequests("GET", "/v1/secret/metadata/app/db"));
    }

    [Fact]
    public async Task Static_TokenThatNeverReadThePath_GoesToVaultFirst_AndATokenWithoutRightsIsNeverServed()
    {
        await using var s = await StaticAsync();
        await s.ReadAsync(await s.TokenAsync("reader"), Db);
        var other = await s.TokenAsync("reader");
        var (status, _, cache) = await s.ReadAsync(other, Db);
        Assert.Equal((200, "MISS"), (status, cache));
        Assert.Equal(2, s.Vault.Faults.CountRequests("GET", Db));
        Assert.Equal("HIT", (await s.ReadAsync(other, Db)).Cache);

        var outsider = await s.TokenAsync("default");
        for (var i = 0; i < 3; i++)
        {
            var (denied, body, deniedCache) = await s.ReadAsync(outsider, Db);
            Assert.Equal(403, denied);
            Assert.NotEqual("HIT", deniedCache);
            Assert.DoesNotContain("pw-1", body, StringComparison.Ordinal);
        }

        Assert.Equal(5, s.Vault.Faults.CountRequests("GET", Db));
    }

    [Fact]
    public async Task Static_PolicyChangedUnderneath_TokenStopsBeingServedAtTheNextCapabilityRefresh()
    {
        // No polling: only the capability refresh can take the grant away.
        await using var s = await StaticAsync(refresh: "0s");
        var token = await s.TokenAsync("reader");
        await s.ReadAsync(token, Db);
        Assert.Equal("HIT", (await s.ReadAsync(token, Db)).Cache);

        await s.Ops.RootAsync(HttpMethod.Put, "sys/policies/acl/reader", new { policy = "path \"secret/data/other/*\" { capabilities = [\"read\"] }" });
        await s.AdvanceThroughPassAsync(TimeSpan.FromMinutes(5), "capability refresh");
        var (status, body, cache) = await s.ReadAsync(token, Db);
        Assert.Equal(403, status);
        Assert.NotEqual("HIT", cache);
        Assert.DoesNotContain("pw-1", body, StringComparison.Ordinal);
        Assert.Equal(1, s.Vault.Faults.CountRequests("POST", "/v1/sys/capabilities-self"));
    }

    [Fact]
    public async Task Static_TokenRevokedInVault_IsDroppedAtTheNextCapabilityRefresh()
    {
        await using var s = await StaticAsync(refresh: "0s");
        var token = await s.TokenAsync("reader");
        await s.ReadAsync(token, Db);
        await s.Ops.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token });
        Assert.Equal("HIT", (await s.ReadAsync(token, Db)).Cache);
        await s.AdvanceThroughPassAsync(TimeSpan.FromMinutes(5), "capability refresh");
        Assert.Equal(403, (await s.ReadAsync(token, Db)).Status);
    }

    [Fact]
    public async Task Static_TokenRevokedThroughGatehouse_IsDroppedAtOnce()
    {
        await using var s = await StaticAsync();
        var token = await s.TokenAsync("reader");
        await s.ReadAsync(token, Db);
        var (revoked, _, _) = await s.Ops.SendAsync(HttpMethod.Post, "/v1/auth/token/revoke-self", token);
        Assert.Equal(204, revoked);
        var (status, body, _) = await s.ReadAsync(token, Db);
        Assert.Equal(403, status);
        Assert.DoesNotContain("pw-1", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Static_ExpiredToken_IsNotServed()
    {
        await using var s = await StaticAsync();
        var token = await s.TokenAsync("reader", ttl: "2m");
        await s.ReadAsync(token, Db);
        Assert.Equal("HIT", (await s.ReadAsync(token, Db)).Cache);
        s.Ops.Time.Advance(TimeSpan.FromMinutes(3));
        var (status, _, cache) = await s.ReadAsync(token, Db);
        Assert.Equal(403, status);
        Assert.NotEqual("HIT", cache);
    }

    [Fact]
    public async Task Static_LimitedUseToken_IsNeverServedFromTheCache()
    {
        await using var s = await StaticAsync();
        var created = await s.Ops.RootAsync(HttpMethod.Post, "auth/token/create", new { policies = new[] { "reader" }, ttl = "1h", num_uses = 10 });
        var token = created!["auth"]!["client_token"]!.ToString();
        await s.ReadAsync(token, Db);
        Assert.NotEqual("HIT", (await s.ReadAsync(token, Db)).Cache);
    }

    public static TheoryData<string, string, string> WritesThroughGatehouse => new()
    {
        // method, path as the client spells it, body
        { "POST", "/v1/secret/data/app/db", """{"data":{"password":"pw-2"}}""" },
        { "PUT", "/v1/secret//data/app/./db", """{"data":{"password":"pw-2"}}""" },
        { "PUT", "/v1/secret/data/app/x/../db", """{"data":{"password":"pw-2"}}""" },
        { "PUT", "/v1/secret/data/app%2Fdb", """{"data":{"password":"pw-2"}}""" },
        { "PUT", "/v1/secret/data%2fapp/db", """{"data":{"password":"pw-2"}}""" },
        { "DELETE", "/v1/secret/data/app/db", "" },
        { "POST", "/v1/secret/delete/app/db", """{"versions":[1]}""" },
        { "POST", "/v1/secret/destroy/app/db", """{"versions":[1]}""" },
        { "DELETE", "/v1/secret/metadata/app/db", "" },
        { "POST", "/v1/secret/metadata/app/db", """{"custom_metadata":{"owner":"ops"}}""" },
    };

    [Theory]
    [MemberData(nameof(WritesThroughGatehouse))]
    public async Task Static_WriteThroughGatehouse_EvictsAtOnce(string method, string path, string body)
    {
        await using var s = await StaticAsync();
        var token = await s.TokenAsync("reader");
        await s.ReadAsync(token, Db);
        Assert.Equal("HIT", (await s.ReadAsync(token, Db)).Cache);

        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Add("X-Vault-Token", token);
        if (body.Length > 0)
        {
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        }

        using var written = await s.Ops.Client.SendAsync(request);
        Assert.True(written.IsSuccessStatusCode, $"{(int)written.StatusCode} {await written.Content.ReadAsStringAsync()}");

        // The next read is Vault's answer after the write, whatever the write was.
        var (status, after, cache) = await s.ReadAsync(token, Db);
        Assert.NotEqual("HIT", cache);
        Assert.Equal(2, s.Vault.Faults.CountRequests("GET", Db));
        using var direct = await s.Ops.Root.GetAsync(Db);
        Assert.Equal((int)direct.StatusCode, status);
        Assert.Equal(Password(await direct.Content.ReadAsStringAsync()), Password(after));
    }

    [Fact]
    public async Task Static_WriteStraightToVault_IsSeenAfterRevalidation_AndHitsResume()
    {
        await using var s = await StaticAsync();
        var token = await s.TokenAsync("reader");
        await s.ReadAsync(token, Db);
        await s.Ops.RootAsync(HttpMethod.Post, "secret/data/app/db", new { data = new { password = "pw-direct" } });
        Assert.Equal("pw-1", Password((await s.ReadAsync(token, Db)).Body));

        await s.AdvanceThroughPassAsync(TimeSpan.FromSeconds(30), "revalidation");
        var (status, body, cache) = await s.ReadAsync(token, Db);
        Assert.Equal((200, "HIT"), (status, cache));
        Assert.Equal("pw-direct", Password(body));
        Assert.Equal(2, s.Vault.Faults.CountRequests("GET", Db));
    }

    [Fact]
    public async Task Static_SecretDeletedStraightInVault_IsEvictedByRevalidation()
    {
        await using var s = await StaticAsync();
        var token = await s.TokenAsync("reader");
        await s.ReadAsync(token, Db);
        await s.Ops.RootAsync(HttpMethod.Delete, "secret/metadata/app/db");
        await s.AdvanceThroughPassAsync(TimeSpan.FromSeconds(30), "revalidation");
        Assert.Equal(404, (await s.ReadAsync(token, Db)).Status);
    }

    [Fact]
    public async Task Static_PinnedVersion_IsCachedApartFromCurrent_AndSurvivesNewVersions()
    {
        await using var s = await StaticAsync();
        var token = await s.TokenAsync("reader");
        await s.Ops.RootAsync(HttpMethod.Post, "secret/data/app/db", new { data = new { password = "pw-2" } });
        await s.ReadAsync(token, Db + "?version=1");
        await s.ReadAsync(token, Db);
        var (_, v1, c1) = await s.ReadAsync(token, Db + "?version=1");
        var (_, current, c2) = await s.ReadAsync(token, Db);
        Assert.Equal(("HIT", "HIT"), (c1, c2));
        Assert.Equal(("pw-1", "pw-2"), (Password(v1), Password(current)));

        await s.Ops.RootAsync(HttpMethod.Post, "secret/data/app/db", new { data = new { password = "pw-3" } });
        await s.AdvanceThroughPassAsync(TimeSpan.FromSeconds(30), "revalidation");
        Assert.Equal("pw-1", Password((await s.ReadAsync(token, Db + "?version=1")).Body));
        Assert.Equal("pw-3", Password((await s.ReadAsync(token, Db)).Body));
    }

    [Fact]
    public async Task Static_KvV1_CachedRevalidatedByReReadAndEvictedOnDelete()
    {
        await using var s = await StaticAsync();
        var token = await s.TokenAsync("reader");
        await s.ReadAsync(token, "/v1/kv1/app");
        Assert.Equal("HIT", (await s.ReadAsync(token, "/v1/kv1/app")).Cache);
        await s.Ops.RootAsync(HttpMethod.Put, "kv1/app", new { password = "v1-new" });
        await s.AdvanceThroughPassAsync(TimeSpan.FromSeconds(30), "revalidation");
        var (_, body, cache) = await s.ReadAsync(token, "/v1/kv1/app");
        Assert.Equal("HIT", cache);
        Assert.Equal("v1-new", JsonNode.Parse(body)!["data"]!["password"]!.ToString());

        await s.Ops.SendAsync(HttpMethod.Delete, "/v1/kv1/app", token);
        Assert.Equal(404, (await s.ReadAsync(token, "/v1/kv1/app")).Status);
    }

    public static TheoryData<string, string> Bypasses => new()
    {
        { "X-Vault-Wrap-TTL", "60s" },
        { "X-Vault-Index", "dGVzdA" },
        { "X-Vault-Inconsistent", "forward-active-node" },
    };

    [Theory]
    [MemberData(nameof(Bypasses))]
    public async Task Static_ReadsThatAskForFreshnessOrWrapping_AreNeverServedFromTheCache(string header, string value)
    {
        await using var s = await StaticAsync();
        var token = await s.TokenAsync("reader");
        await s.ReadAsync(token, Db);
        using var request = new HttpRequestMessage(HttpMethod.Get, Db);
        request.Headers.Add("X-Vault-Token", token);
        request.Headers.Add(header, value);
        using var response = await s.Ops.Client.SendAsync(request);
        Assert.False(response.Headers.TryGetValues("X-Cache", out var cache) && cache.Single() == "HIT");
        Assert.Equal(2, s.Vault.Faults.CountRequests("GET", Db));
    }

    [Fact]
    public async Task Static_AutoAuthToken_IsServedLikeAnyOtherToken()
    {
        await using var s = await StaticAsync(policies: "reader");
        var (first, _, _) = await s.ReadAsync(null, Db);
        var (second, body, cache) = await s.ReadAsync(null, Db);
        Assert.Equal((200, 200, "HIT"), (first, second, cache));
        Assert.Equal("pw-1", Password(body));
    }

    [Fact]
    public async Task Static_CapabilityRefreshWhileVaultIsDown_PessimisticDropsGrants()
    {
        await using var s = await StaticAsync();
        var token = await s.TokenAsync("reader");
        await s.ReadAsync(token, Db);
        s.Vault.Faults.DropConnections = true;
        await s.AdvanceThroughPassAsync(TimeSpan.FromMinutes(5), "capability refresh");
        s.Vault.Faults.DropConnections = false;
        Assert.NotEqual("HIT", (await s.ReadAsync(token, Db)).Cache);
    }

    [Fact]
    public async Task Static_CapabilityRefreshWhileVaultIsDown_OptimisticKeepsServing()
    {
        await using var s = await StaticAsync(behavior: "optimistic");
        var token = await s.TokenAsync("reader");
        await s.ReadAsync(token, Db);
        s.Vault.Faults.DropConnections = true;
        await s.AdvanceThroughPassAsync(TimeSpan.FromMinutes(5), "capability refresh");
        var (status, body, cache) = await s.ReadAsync(token, Db);
        s.Vault.Faults.DropConnections = false;
        Assert.Equal((200, "HIT"), (status, cache));
        Assert.Equal("pw-1", Password(body));
    }

    [Fact]
    public async Task Static_VaultDownAtRevalidation_KeepsServingTheLastAnswer()
    {
        await using var s = await StaticAsync();
        var token = await s.TokenAsync("reader");
        await s.ReadAsync(token, Db);
        s.Vault.Faults.DropConnections = true;
        await s.AdvanceThroughPassAsync(TimeSpan.FromSeconds(30), "revalidation");
        var (status, body, cache) = await s.ReadAsync(token, Db);
        s.Vault.Faults.DropConnections = false;
        Assert.Equal((200, "HIT"), (status, cache));
        Assert.Equal("pw-1", Password(body));
    }

    [Fact]
    public async Task Static_CacheHitMetric_CarriesTheKindLabel()
    {
        await using var s = await StaticAsync();
        var token = await s.TokenAsync("reader");
        await s.ReadAsync(token, Db);
        await s.ReadAsync(token, Db);
        using var metrics = s.Ops.ClientFor(1);
        var text = await metrics.GetStringAsync("/agent/v1/metrics?format=prometheus");
        Assert.Contains("kind=\"static\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Static_EventFromVault_RevalidatesTheSecretAtOnce()
    {
        await using var s = await StaticAsync(refresh: "0s");
        var token = await s.TokenAsync("reader");
        await s.ReadAsync(token, Db);
        await s.Ops.RootAsync(HttpMethod.Post, "secret/data/app/db", new { data = new { password = "pw-event" } });
        var done = s.PassAsync("event");
        s.Cache.KvChanged("", "secret/data/app/db");
        await done;
        var (_, body, cache) = await s.ReadAsync(token, Db);
        Assert.Equal(("HIT", "pw-event"), (cache, Password(body)));
    }

    private static string? Password(string body)
    {
        var root = JsonNode.Parse(body);
        return (root?["data"]?["data"] ?? root?["data"])?["password"]?.ToString();
    }

    [Fact]
    public async Task Static_DisableCachingDynamicSecrets_CachesKvButNotLogins()
    {
        await using var s = await StaticAsync(extra: "disable_caching_dynamic_secrets = true");
        var token = await s.TokenAsync("reader");
        await s.ReadAsync(token, Db);
        Assert.Equal("HIT", (await s.ReadAsync(token, Db)).Cache);

        var login = new { role_id = s.Ops.RoleId, secret_id = s.Ops.SecretId };
        var (_, _, first) = await s.Ops.SendAsync(HttpMethod.Post, "/v1/auth/approle/login", token, login);
        var (_, _, second) = await s.Ops.SendAsync(HttpMethod.Post, "/v1/auth/approle/login", token, login);
        using (first)
        using (second)
        {
            Assert.Equal("MISS", second.Headers.GetValues("X-Cache").Single());
        }

        Assert.Equal(2, s.Vault.Faults.CountRequests("POST", "/v1/auth/approle/login"));
    }

    [Fact]
    public async Task Static_CacheClearAll_EvictsStaticEntries()
    {
        await using var s = await StaticAsync();
        var token = await s.TokenAsync("reader");
        await s.ReadAsync(token, Db);
        using var cleared = await s.Ops.Client.PostAsync("/agent/v1/cache-clear", new StringContent("""{"type":"all"}"""));
        Assert.True(cleared.IsSuccessStatusCode);
        Assert.Equal("MISS", (await s.ReadAsync(token, Db)).Cache);
        Assert.Equal(2, s.Vault.Faults.CountRequests("GET", Db));
    }

    private static async Task<StaticSession> StaticAsync(string policies = "all", string behavior = "pessimistic", string refresh = "30s", string extra = "")
    {
        var h = await OpsHarness.StartVaultAsync(leasedKv: false);
        await h.RootAsync(HttpMethod.Put, "sys/policies/acl/reader", new { policy = ReaderPolicy });
        await h.RootAsync(HttpMethod.Post, "sys/mounts/kv1", new { type = "kv", options = new { version = "1" } });
        await h.RootAsync(HttpMethod.Post, "auth/approle/role/app", new { token_ttl = "1h", token_max_ttl = "24h", token_policies = new[] { policies } });
        await h.RootAsync(HttpMethod.Post, "secret/data/app/db", new { data = new { password = "pw-1" } });
        await h.RootAsync(HttpMethod.Put, "kv1/app", new { password = "v1-old" });
        await File.WriteAllTextAsync(h.PathOf("secret_id"), h.SecretId);
        await h.StartGatehouseAsync(h.Hcl(cache: false, extra: $$"""
            cache {
              cache_static_secrets                            = true
              static_secret_token_capability_refresh_interval = "5m"
              static_secret_token_capability_refresh_behavior = "{{behavior}}"
              static_secret_refresh_interval                  = "{{refresh}}"
              {{extra}}
            }
            """));
        await h.FirstSinkWriteAsync();
        return new StaticSession(h);
    }

    private sealed class StaticSession(OpsHarness ops) : IAsyncDisposable
    {
        public OpsHarness Ops { get; } = ops;

        public Gatehouse.DevVault.DevVaultServer Vault => Ops.Vault;

        public StaticSecretCache Cache => Ops.Host.Services.GetRequiredService<StaticSecretCache>();

        public async Task<string> TokenAsync(string policy, string ttl = "1h")
        {
            var created = await Ops.RootAsync(HttpMethod.Post, "auth/token/create", new { policies = new[] { policy }, ttl });
            return created!["auth"]!["client_token"]!.ToString();
        }

        /// <summary>A GET through Gatehouse; <paramref name="token"/> null sends none (the auto-auth token is used).</summary>
        public async Task<(int Status, string Body, string? Cache)> ReadAsync(string? token, string path)
        {
            var (status, body, response) = await Ops.SendAsync(HttpMethod.Get, path, token);
            using (response)
            {
                return (status, body, response.Headers.TryGetValues("X-Cache", out var values) ? values.Single() : null);
            }
        }

        /// <summary>Completes after the next pass named <paramref name="pass"/> (bounded by the harness's safety net).</summary>
        public Task PassAsync(string pass)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnPass(string name)
            {
                if (name == pass)
                {
                    Cache.PassCompleted -= OnPass;
                    done.TrySetResult();
                }
            }

            Cache.PassCompleted += OnPass;
            return done.Task.WaitAsync(OpsHarness.Hang);
        }

        /// <summary>Advances the clock by <paramref name="by"/> and waits for the pass the refresher's timer runs then.</summary>
        public async Task AdvanceThroughPassAsync(TimeSpan by, string pass)
        {
            var done = PassAsync(pass);
            Ops.Time.Advance(by);
            await done;
        }

        public ValueTask DisposeAsync() => Ops.DisposeAsync();
    }
}
