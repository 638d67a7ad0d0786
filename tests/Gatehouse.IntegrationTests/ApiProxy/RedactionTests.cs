using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Configuration;
using Gatehouse.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.IntegrationTests.ApiProxy;

public sealed class RedactionTests
{
    private const string AutoToken = "hvs.auto";

    private const string LookupBody =
        """{"request_id":"r1","data":{"id":"hvs.auto","accessor":"acc1","policies":["default"],"ttl":3600,"custom_field":"kept"},"auth":null,"extra_top":1}""";

    private const string RenewBody =
        """{"request_id":"r2","data":null,"auth":{"client_token":"hvs.auto","accessor":"acc1","policies":["default"],"lease_duration":3600,"renewable":true}}""";

    private static async Task<(TestUpstream Upstream, ProxyHarness Proxy)> StartAsync(string body)
    {
        var upstream = await TestUpstream.StartAsync();
        upstream.Handler = context =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(body);
        };
        var proxy = await ProxyHarness.StartAsync(upstream.Address, new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.WhenMissing });
        proxy.PublishToken(AutoToken);
        return (upstream, proxy);
    }

    [Theory]
    [InlineData("/v1/auth/token/lookup-self")]
    [InlineData("/v1/ns1/auth/token/lookup-self")]
    public async Task LookupSelf_WithTheAutoAuthToken_RemovesIdAndAccessor_KeepsEverythingElse(string path)
    {
        var (upstream, proxy) = await StartAsync(LookupBody);
        await using var _ = upstream;
        await using var __ = proxy;

        using var response = await proxy.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Null(json["data"]!["id"]);
        Assert.Null(json["data"]!["accessor"]);
        Assert.Equal("kept", json["data"]!["custom_field"]!.GetValue<string>());
        Assert.Equal(1, json["extra_top"]!.GetValue<int>());
        Assert.Equal("MISS", response.Headers.GetValues("X-Cache").Single());
        Assert.DoesNotContain(AutoToken, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task RenewSelf_WithTheAutoAuthToken_BlanksClientTokenAndAccessor()
    {
        var (upstream, proxy) = await StartAsync(RenewBody);
        await using var _ = upstream;
        await using var __ = proxy;

        using var response = await proxy.Client.PutAsync("/v1/auth/token/renew-self", new StringContent("{\"increment\":0}", Encoding.UTF8, "application/json"));

        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("", json["auth"]!["client_token"]!.GetValue<string>());
        Assert.Equal("", json["auth"]!["accessor"]!.GetValue<string>());
        Assert.True(json["auth"]!["renewable"]!.GetValue<bool>());
    }

    [Fact]
    public async Task LookupSelf_WithTheClientsOwnToken_IsNotRedacted()
    {
        var (upstream, proxy) = await StartAsync(LookupBody);
        await using var _ = upstream;
        await using var __ = proxy;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/auth/token/lookup-self");
        request.Headers.Add("X-Vault-Token", "hvs.client");

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(LookupBody, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("{\"token\":\"hvs.auto\"}", true)]
    [InlineData("{}", true)]
    [InlineData("{\"token\":\"hvs.other\"}", false)]
    public async Task Lookup_RedactsWhenTheAnswerDescribesTheAutoAuthToken(string requestBody, bool redacted)
    {
        // Like Vault: the answer describes the body's token, or the caller's own when the body names none.
        var (upstream, proxy) = await StartAsync(LookupBody);
        upstream.Handler = async context =>
        {
            var named = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync())?["token"]?.GetValue<string>();
            var described = named ?? context.Request.Headers["X-Vault-Token"].ToString();
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(LookupBody.Replace("hvs.auto", described, StringComparison.Ordinal));
        };
        await using var _ = upstream;
        await using var __ = proxy;

        using var response = await proxy.Client.PostAsync("/v1/auth/token/lookup", new StringContent(requestBody, Encoding.UTF8, "application/json"));

        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(redacted, json["data"]!["id"] is null);
    }
}
