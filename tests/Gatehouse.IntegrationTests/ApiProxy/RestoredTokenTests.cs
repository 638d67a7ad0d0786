using System.Collections.Concurrent;
using System.Net;
using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Gatehouse.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.IntegrationTests.ApiProxy;

/// <summary>
/// The auto-auth token restored from the persistent cache, before Vault confirmed it, never goes upstream: it only
/// looks answers up in the cache (hits are covered end to end in <c>Operations/OutageEndToEndTests</c>).
/// </summary>
public sealed class RestoredTokenTests
{
    private static AutoAuthToken Restored() => new("hvs.restored", "acc-restored", DateTimeOffset.UtcNow, TimeSpan.FromHours(1), Renewable: true);

    private static (TestUpstream Upstream, ConcurrentQueue<string> Seen) Recording(TestUpstream upstream)
    {
        var seen = new ConcurrentQueue<string>();
        upstream.Handler = context =>
        {
            seen.Enqueue(context.Request.Headers["X-Vault-Token"].ToString());
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync("{}");
        };
        return (upstream, seen);
    }

    [Fact]
    public async Task RestoredToken_OnACacheMiss_IsNotSent_TheRequestWaitsForTheConfirmedToken()
    {
        await using var started = await TestUpstream.StartAsync();
        var (upstream, seen) = Recording(started);
        await using var proxy = await ProxyHarness.StartAsync(
            upstream.Address,
            new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.WhenMissing },
            c => c with { Cache = new CacheConfig() },
            new() { RetryJitter = () => 0, FirstTokenWait = TimeSpan.FromSeconds(30) });
        proxy.Tokens.Preload(Restored());

        var pending = proxy.Client.GetAsync("/v1/secret/data/app");
        proxy.PublishToken("hvs.confirmed");
        using var response = await pending;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["hvs.confirmed"], seen);
    }

    [Fact]
    public async Task RestoredToken_WithoutACache_IsNotUsed_AndTheRequestFailsWith503()
    {
        await using var started = await TestUpstream.StartAsync();
        var (upstream, seen) = Recording(started);
        await using var proxy = await ProxyHarness.StartAsync(
            upstream.Address,
            new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.Force },
            options: new() { RetryJitter = () => 0, FirstTokenWait = TimeSpan.FromMilliseconds(50) });
        proxy.Tokens.Preload(Restored());

        using var response = await proxy.Client.GetAsync("/v1/secret/data/app");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Empty(seen);
    }
}
