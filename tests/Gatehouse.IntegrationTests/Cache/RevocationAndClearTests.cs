using System.Net;
using System.Net.Http.Json;
using static Gatehouse.IntegrationTests.Cache.CacheHarness;

namespace Gatehouse.IntegrationTests.Cache;

public sealed class RevocationAndClearTests
{
    /// <summary>A cached login token T, a cached child C under T, and a cached lease L under T.</summary>
    private static async Task<(CacheHarness H, string Parent, string Child, string ChildAccessor, string Lease)> SetUpAsync()
    {
        var h = await StartAsync();
        var parent = await h.LoginTokenAsync();
        var child = (await ReadJson(await h.SendAsync(HttpMethod.Post, "/v1/auth/token/create", parent, new { ttl = "1h" })))["auth"]!;
        var lease = (await ReadJson(await h.SendAsync(HttpMethod.Get, "/v1/secret/db", parent)))["lease_id"]!.ToString();
        Assert.Equal(3, h.Cache.Index.Count);
        return (h, parent, child["client_token"]!.ToString(), child["accessor"]!.ToString(), lease);
    }

    [Fact]
    public async Task Revoke_Token_EvictsItsWholeSubtree()
    {
        var (h, parent, _, _, _) = await SetUpAsync();
        await using var _h = h;
        using var response = await h.SendAsync(HttpMethod.Put, "/v1/auth/token/revoke", h.Vault.RootToken, new { token = parent });
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(0, h.Cache.Index.Count);
    }

    [Fact]
    public async Task Revoke_Self_EvictsRequestTokenSubtree()
    {
        var (h, parent, _, _, _) = await SetUpAsync();
        await using var _h = h;
        using var response = await h.SendAsync(HttpMethod.Put, "/v1/auth/token/revoke-self", parent);
        Assert.True(response.IsSuccessStatusCode);
        Assert.Equal(0, h.Cache.Index.Count);
        using var again = await h.LoginAsync();
        Assert.Equal("MISS", XCache(again));
    }

    [Fact]
    public async Task Revoke_Accessor_EvictsOnlyThatTokenSubtree()
    {
        var (h, parent, child, accessor, lease) = await SetUpAsync();
        await using var _h = h;
        using var response = await h.SendAsync(HttpMethod.Put, "/v1/auth/token/revoke-accessor", h.Vault.RootToken, new { accessor });
        Assert.True(response.IsSuccessStatusCode);
        Assert.Null(h.Cache.Index.GetByToken(child));
        Assert.NotNull(h.Cache.Index.GetByToken(parent));
        Assert.NotNull(h.Cache.Index.GetByLease(lease));
    }

    [Fact]
    public async Task Revoke_Orphan_KeepsChildrenWithoutParent()
    {
        var (h, parent, child, _, lease) = await SetUpAsync();
        await using var _h = h;
        using var response = await h.SendAsync(HttpMethod.Put, "/v1/auth/token/revoke-orphan", h.Vault.RootToken, new { token = parent });
        Assert.True(response.IsSuccessStatusCode);
        Assert.Null(h.Cache.Index.GetByToken(parent));
        Assert.Null(h.Cache.Index.GetByLease(lease));
        var kept = h.Cache.Index.GetByToken(child);
        Assert.NotNull(kept);
        Assert.Null(kept.TokenParent);
    }

    [Theory]
    [InlineData("body")]
    [InlineData("url")]
    [InlineData("legacy")]
    [InlineData("prefix")]
    [InlineData("force")]
    [InlineData("legacy-prefix")]
    public async Task Revoke_Lease_EveryForm_EvictsOnlyTheLease(string form)
    {
        var (h, parent, child, _, lease) = await SetUpAsync();
        await using var _h = h;
        using var response = form switch
        {
            "body" => await h.SendAsync(HttpMethod.Put, "/v1/sys/leases/revoke", h.Vault.RootToken, new { lease_id = lease }),
            "url" => await h.SendAsync(HttpMethod.Put, "/v1/sys/leases/revoke/" + lease, h.Vault.RootToken),
            "legacy" => await h.SendAsync(HttpMethod.Put, "/v1/sys/revoke/" + lease, h.Vault.RootToken),
            "prefix" => await h.SendAsync(HttpMethod.Put, "/v1/sys/leases/revoke-prefix/secret/db", h.Vault.RootToken),
            "force" => await h.SendAsync(HttpMethod.Put, "/v1/sys/leases/revoke-force/secret", h.Vault.RootToken),
            _ => await h.SendAsync(HttpMethod.Put, "/v1/sys/revoke-prefix/secret/db", h.Vault.RootToken),
        };
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.Null(h.Cache.Index.GetByLease(lease));
        Assert.NotNull(h.Cache.Index.GetByToken(parent));
        Assert.NotNull(h.Cache.Index.GetByToken(child));
    }

    [Fact]
    public async Task Revoke_FailedUpstream_EvictsNothing()
    {
        var (h, parent, _, _, _) = await SetUpAsync();
        await using var _h = h;
        using var response = await h.SendAsync(HttpMethod.Put, "/v1/auth/token/revoke", "not-a-token", new { token = parent });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(3, h.Cache.Index.Count);
    }

    [Theory]
    [InlineData("request_path", "/v1/secret", null, 2)]
    [InlineData("request_path", "/v1/auth/approle", null, 0)]
    [InlineData("request_path", "/v1/secret", "ns1/", 3)]
    [InlineData("token", "PARENT", null, 0)]
    [InlineData("token", "CHILD", null, 2)]
    [InlineData("token_accessor", "ACCESSOR", null, 2)]
    [InlineData("lease", "LEASE", null, 2)]
    [InlineData("all", null, null, 0)]
    [InlineData("token", "no-such-token", null, 3)]
    public async Task CacheClear_EachType_EvictsWhatItNames(string type, string? value, string? ns, int remaining)
    {
        var (h, parent, child, accessor, lease) = await SetUpAsync();
        await using var _h = h;
        value = value switch { "PARENT" => parent, "CHILD" => child, "ACCESSOR" => accessor, "LEASE" => lease, _ => value };
        using var response = await h.Client.PostAsJsonAsync("/agent/v1/cache-clear", new { type, value, @namespace = ns });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        Assert.Equal(remaining, h.Cache.Index.Count);
    }

    [Theory]
    [InlineData("", 400, "failed to parse JSON input: empty JSON provided")]
    [InlineData("{nope", 400, "failed to parse JSON input:")]
    [InlineData("{}", 400, "failed to parse clear input: no type provided")]
    [InlineData("{\"type\":\"bogus\"}", 400, "failed to clear cache: invalid type provided")]
    [InlineData("{\"type\":\"request_path\"}", 400, "failed to clear cache: request path not provided")]
    [InlineData("{\"type\":\"token\"}", 400, "failed to clear cache: token not provided")]
    [InlineData("{\"type\":\"token_accessor\"}", 400, "failed to clear cache: token accessor not provided")]
    [InlineData("{\"type\":\"lease\"}", 400, "failed to clear cache: lease not provided")]
    public async Task CacheClear_BadInput_AnswersVaultMessage(string body, int status, string message)
    {
        await using var h = await StartAsync();
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await h.Client.PutAsync("/proxy/v1/cache-clear", content);
        Assert.Equal(status, (int)response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!["errors"]!.AsArray();
        Assert.StartsWith(message, errors[0]!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CacheClear_OtherMethod_IsNoOp()
    {
        var (h, _, _, _, _) = await SetUpAsync();
        await using var _h = h;
        using var response = await h.Client.GetAsync("/agent/v1/cache-clear");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, h.Cache.Index.Count);
    }
}
