using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Configuration;
using Gatehouse.DevVault;
using Gatehouse.IntegrationTests.Support;

namespace Gatehouse.IntegrationTests.ApiProxy;

/// <summary>The real host in front of DevVault, driven by a plain HttpClient as an application would.</summary>
public sealed class DevVaultProxyTests
{
    private static async Task<(DevVaultServer Vault, ProxyHarness Proxy)> StartAsync(
        ApiProxyConfig? apiProxy = null, DevVaultOptions? vaultOptions = null, Func<GatehouseConfig, GatehouseConfig>? configure = null)
    {
        var vault = await DevVaultServer.StartAsync(vaultOptions ?? new DevVaultOptions());
        var proxy = await ProxyHarness.StartAsync(vault.Address.ToString().TrimEnd('/'), apiProxy, configure);
        return (vault, proxy);
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, string? token, string? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Add("X-Vault-Token", token);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        return request;
    }

    [Fact]
    public async Task KvWriteThenRead_WithTheClientsToken_RoundTrips_AndListWorks()
    {
        var (vault, proxy) = await StartAsync();
        await using var _ = vault;
        await using var __ = proxy;

        using var write = await proxy.Client.SendAsync(Request(HttpMethod.Put, "/v1/secret/data/app", vault.RootToken, """{"data":{"password":"s3cr3t"}}"""));
        using var read = await proxy.Client.SendAsync(Request(HttpMethod.Get, "/v1/secret/data/app?version=1", vault.RootToken));
        using var list = await proxy.Client.SendAsync(Request(new HttpMethod("LIST"), "/v1/secret/metadata/", vault.RootToken));

        Assert.Equal(HttpStatusCode.OK, write.StatusCode);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("s3cr3t", JsonNode.Parse(await read.Content.ReadAsStringAsync())!["data"]!["data"]!["password"]!.GetValue<string>());
        Assert.Equal("MISS", read.Headers.GetValues("X-Cache").Single());
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Contains("app", await list.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task MissingSecret_Vaults404_PassesThroughWithItsBody()
    {
        var (vault, proxy) = await StartAsync();
        await using var _ = vault;
        await using var __ = proxy;
        using var directClient = new HttpClient { BaseAddress = vault.Address };

        using var direct = await directClient.SendAsync(Request(HttpMethod.Get, "/v1/secret/data/none", vault.RootToken));
        using var proxied = await proxy.Client.SendAsync(Request(HttpMethod.Get, "/v1/secret/data/none", vault.RootToken));

        Assert.Equal(HttpStatusCode.NotFound, proxied.StatusCode);
        Assert.Equal(await direct.Content.ReadAsStringAsync(), await proxied.Content.ReadAsStringAsync());
        Assert.False(proxied.Headers.Contains("X-Cache"));
    }

    [Fact]
    public async Task WhenMissing_BogusClientToken_IsDenied_ButForce_Succeeds()
    {
        var (vault, whenMissing) = await StartAsync(new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.WhenMissing });
        await using var _ = vault;
        await using var __ = whenMissing;
        await using var force = await ProxyHarness.StartAsync(vault.Address.ToString().TrimEnd('/'), new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.Force });
        whenMissing.PublishToken(vault.RootToken);
        force.PublishToken(vault.RootToken);

        using var denied = await whenMissing.Client.SendAsync(Request(HttpMethod.Get, "/v1/auth/token/lookup-self", "hvs.bogus"));
        using var withAuto = await whenMissing.Client.SendAsync(Request(HttpMethod.Get, "/v1/sys/mounts", null));
        using var forced = await force.Client.SendAsync(Request(HttpMethod.Get, "/v1/sys/mounts", "hvs.bogus"));

        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withAuto.StatusCode);
        Assert.Equal(HttpStatusCode.OK, forced.StatusCode);
    }

    [Fact]
    public async Task LookupSelf_WithTheAutoAuthToken_IsRedacted()
    {
        var (vault, proxy) = await StartAsync(
            new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.WhenMissing }, new DevVaultOptions { RootTokenId = "hvs.distinctive-root" });
        await using var _ = vault;
        await using var __ = proxy;
        proxy.PublishToken(vault.RootToken);

        using var response = await proxy.Client.GetAsync("/v1/auth/token/lookup-self");

        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(vault.RootToken, body);
        var data = JsonNode.Parse(body)!["data"]!;
        Assert.Null(data["id"]);
        Assert.Null(data["accessor"]);
        Assert.NotNull(data["policies"]);
    }

    [Fact]
    public async Task VaultStopped_Answers502_ThenRestarted_Answers200()
    {
        var (vault, proxy) = await StartAsync();
        await using var _ = vault;
        await using var __ = proxy;
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        await vault.Faults.StopListenerAsync();
        using var down = await proxy.Client.GetAsync("/v1/sys/health", guard.Token);
        await vault.Faults.RestartListenerAsync();
        using var up = await proxy.Client.GetAsync("/v1/sys/health", guard.Token);

        Assert.Equal(HttpStatusCode.BadGateway, down.StatusCode);
        Assert.NotEmpty(JsonNode.Parse(await down.Content.ReadAsStringAsync(guard.Token))!["errors"]!.AsArray());
        Assert.Equal(HttpStatusCode.OK, up.StatusCode);
    }

    [Fact]
    public async Task Vault503Twice_IsRetried_AndTheClientGets200()
    {
        var (vault, proxy) = await StartAsync();
        await using var _ = vault;
        await using var __ = proxy;
        vault.Faults.FailNext(2, 503, "Vault is sealed");

        using var response = await proxy.Client.GetAsync("/v1/sys/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, vault.Faults.CountRequests("GET", "/v1/sys/health"));
    }

    [Fact]
    public async Task RetriesExhausted_ReturnsVaultsOwnError()
    {
        var (vault, proxy) = await StartAsync(configure: c => c with { Vault = c.Vault with { NumRetries = 1 } });
        await using var _ = vault;
        await using var __ = proxy;
        vault.Faults.FailNext(5, 503, "Vault is sealed");

        using var response = await proxy.Client.GetAsync("/v1/sys/health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("Vault is sealed", JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]![0]!.GetValue<string>());
        Assert.Equal(2, vault.Faults.CountRequests("GET", "/v1/sys/health"));
    }

    [Fact]
    public async Task Consistency_Fail_StandbyBehind_The412ReachesTheClient()
    {
        var (vault, proxy) = await StartAsync(
            new ApiProxyConfig { EnforceConsistency = EnforceConsistency.Always, WhenInconsistent = WhenInconsistent.Fail },
            new DevVaultOptions { EnterpriseConsistency = true, ReplicationLag = TimeSpan.FromHours(1) });
        await using var _ = vault;
        await using var __ = proxy;

        using var write = await proxy.Client.SendAsync(Request(HttpMethod.Put, "/v1/secret/data/c", vault.RootToken, """{"data":{"v":"1"}}"""));
        using var read = await proxy.Client.SendAsync(Request(HttpMethod.Get, "/v1/secret/data/c", vault.RootToken));

        Assert.Equal(HttpStatusCode.OK, write.StatusCode);
        Assert.True(write.Headers.Contains("X-Vault-Index"));
        Assert.Equal(HttpStatusCode.PreconditionFailed, read.StatusCode);
        Assert.Equal(1, vault.Faults.CountRequests("GET", "/v1/secret/data/c"));
    }

    [Fact]
    public async Task Consistency_Forward_StandbyBehind_ReadSucceedsOnTheActiveNode()
    {
        var (vault, proxy) = await StartAsync(
            new ApiProxyConfig { EnforceConsistency = EnforceConsistency.Always, WhenInconsistent = WhenInconsistent.Forward },
            new DevVaultOptions { EnterpriseConsistency = true, ReplicationLag = TimeSpan.FromHours(1) });
        await using var _ = vault;
        await using var __ = proxy;

        (await proxy.Client.SendAsync(Request(HttpMethod.Put, "/v1/secret/data/c", vault.RootToken, """{"data":{"v":"1"}}"""))).Dispose();
        using var read = await proxy.Client.SendAsync(Request(HttpMethod.Get, "/v1/secret/data/c", vault.RootToken));

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [Fact]
    public async Task Consistency_Retry_A412IsRetried()
    {
        var (vault, proxy) = await StartAsync(
            new ApiProxyConfig { EnforceConsistency = EnforceConsistency.Always, WhenInconsistent = WhenInconsistent.Retry },
            new DevVaultOptions { EnterpriseConsistency = true });
        await using var _ = vault;
        await using var __ = proxy;
        (await proxy.Client.SendAsync(Request(HttpMethod.Put, "/v1/secret/data/c", vault.RootToken, """{"data":{"v":"1"}}"""))).Dispose();

        vault.Faults.FailNext(1, 412, "required index state not present");
        using var read = await proxy.Client.SendAsync(Request(HttpMethod.Get, "/v1/secret/data/c", vault.RootToken));

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(2, vault.Faults.CountRequests("GET", "/v1/secret/data/c"));
    }

    [Fact]
    public async Task TwoHundredConcurrentClients_ReadingASecret_AllSucceed()
    {
        var (vault, proxy) = await StartAsync(new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.WhenMissing });
        await using var _ = vault;
        await using var __ = proxy;
        proxy.PublishToken(vault.RootToken);
        (await proxy.Client.SendAsync(Request(HttpMethod.Put, "/v1/secret/data/app", null, """{"data":{"k":"v"}}"""))).Dispose();

        var statuses = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ =>
        {
            using var client = new HttpClient { BaseAddress = proxy.Client.BaseAddress };
            using var response = await client.GetAsync("/v1/secret/data/app");
            return response.StatusCode;
        }));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
    }
}
