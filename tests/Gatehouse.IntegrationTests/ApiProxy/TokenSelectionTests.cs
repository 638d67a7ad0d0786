using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.Configuration;
using Gatehouse.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.IntegrationTests.ApiProxy;

public sealed class TokenSelectionTests
{
    private const string AutoToken = "hvs.auto";

    /// <summary>An upstream that answers 200 only to the auto-auth token, 403 to anything else, and echoes what it got.</summary>
    private static Task OnlyAutoTokenAsync(HttpContext context)
    {
        var token = context.Request.Headers["X-Vault-Token"].ToString();
        context.Response.Headers["X-Seen-Token"] = token;
        context.Response.Headers["X-Seen-Authorization"] = context.Request.Headers.Authorization.ToString();
        context.Response.StatusCode = token == AutoToken ? 200 : 403;
        return context.Response.WriteAsync(token == AutoToken ? "{}" : "{\"errors\":[\"permission denied\"]}");
    }

    private static async Task<ProxyHarness> StartAsync(TestUpstream upstream, AutoAuthTokenMode mode, bool publish = true)
    {
        upstream.Handler = OnlyAutoTokenAsync;
        var proxy = await ProxyHarness.StartAsync(upstream.Address, new ApiProxyConfig { UseAutoAuthToken = mode });
        if (publish)
        {
            proxy.PublishToken(AutoToken);
        }

        return proxy;
    }

    private static HttpRequestMessage Get(string? token = null, string? bearer = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/v1/secret/data/app");
        if (token is not null)
        {
            request.Headers.Add("X-Vault-Token", token);
        }

        if (bearer is not null)
        {
            request.Headers.Add("Authorization", "Bearer " + bearer);
        }

        return request;
    }

    private static string Seen(HttpResponseMessage response) => response.Headers.GetValues("X-Seen-Token").Single();

    [Fact]
    public async Task Off_WithoutClientToken_SendsNoToken()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await StartAsync(upstream, AutoAuthTokenMode.Off);

        using var response = await proxy.Client.SendAsync(Get());

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("", Seen(response));
    }

    [Fact]
    public async Task Off_WithClientToken_SendsTheClientToken()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await StartAsync(upstream, AutoAuthTokenMode.Off);

        using var response = await proxy.Client.SendAsync(Get("hvs.client"));

        Assert.Equal("hvs.client", Seen(response));
    }

    [Fact]
    public async Task WhenMissing_WithoutClientToken_AddsTheAutoAuthToken()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await StartAsync(upstream, AutoAuthTokenMode.WhenMissing);

        using var response = await proxy.Client.SendAsync(Get());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(AutoToken, Seen(response));
    }

    [Fact]
    public async Task WhenMissing_WithClientToken_ClientTokenWins_AndVaultDeniesIt()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await StartAsync(upstream, AutoAuthTokenMode.WhenMissing);

        using var response = await proxy.Client.SendAsync(Get("hvs.bogus"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("hvs.bogus", Seen(response));
    }

    [Fact]
    public async Task WhenMissing_WithBearerToken_LeavesTheRequestUntouched()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await StartAsync(upstream, AutoAuthTokenMode.WhenMissing);

        using var response = await proxy.Client.SendAsync(Get(bearer: "hvs.bearer"));

        Assert.Equal("", Seen(response));
        Assert.Equal("Bearer hvs.bearer", response.Headers.GetValues("X-Seen-Authorization").Single());
    }

    [Fact]
    public async Task Force_WithBogusClientToken_ReplacesIt_AndSucceeds()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await StartAsync(upstream, AutoAuthTokenMode.Force);

        using var response = await proxy.Client.SendAsync(Get("hvs.bogus", bearer: "hvs.bearer"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(AutoToken, Seen(response));
        Assert.Equal("", response.Headers.GetValues("X-Seen-Authorization").Single());
    }

    [Fact]
    public async Task Force_WithoutClientToken_UsesTheAutoAuthToken()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await StartAsync(upstream, AutoAuthTokenMode.Force);

        using var response = await proxy.Client.SendAsync(Get());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task BeforeFirstLogin_AfterTheBoundedWait_Answers503WithAClearError()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(
            upstream.Address,
            new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.WhenMissing },
            options: new() { FirstTokenWait = TimeSpan.FromMilliseconds(50) });

        using var response = await proxy.Client.SendAsync(Get());

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var errors = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]!.AsArray();
        Assert.Contains("no auto-auth token is available yet", errors[0]!.GetValue<string>());
        Assert.Equal(0, upstream.RequestCount);
    }

    [Fact]
    public async Task BeforeFirstLogin_TokenPublishedWhileWaiting_RequestGoesThrough()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await StartAsync(upstream, AutoAuthTokenMode.WhenMissing, publish: false);

        var pending = proxy.Client.SendAsync(Get());
        proxy.PublishToken(AutoToken);
        using var response = await pending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AutoAuthTokenDenied_IsReportedToTheTokenStore()
    {
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = context =>
        {
            context.Response.StatusCode = 403;
            return context.Response.WriteAsync("{\"errors\":[\"permission denied\"]}");
        };
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address, new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.Force });
        proxy.PublishToken(AutoToken);

        using var response = await proxy.Client.SendAsync(Get());

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.True(proxy.Tokens.Rejections.TryRead(out var rejected));
        Assert.Equal(AutoToken, rejected);
    }

    [Fact]
    public async Task ClientTokenDenied_IsNotReported()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await StartAsync(upstream, AutoAuthTokenMode.WhenMissing);

        using var response = await proxy.Client.SendAsync(Get("hvs.bogus"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(proxy.Tokens.Rejections.TryRead(out _));
    }
}
