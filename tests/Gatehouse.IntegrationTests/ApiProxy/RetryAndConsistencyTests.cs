using System.Net;
using Gatehouse.Configuration;
using Gatehouse.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.IntegrationTests.ApiProxy;

public sealed class RetryAndConsistencyTests
{
    /// <summary>Answers <paramref name="failures"/> times with <paramref name="status"/> (Retry-After: 0), then 200.</summary>
    private static Func<HttpContext, Task> FailThenSucceed(int failures, int status)
    {
        var calls = 0;
        return async context =>
        {
            if (Interlocked.Increment(ref calls) <= failures)
            {
                context.Response.StatusCode = status;
                context.Response.Headers.RetryAfter = "0";
                await context.Response.WriteAsync($"{{\"errors\":[\"attempt {calls}\"]}}");
                return;
            }

            await context.Response.WriteAsync("ok");
        };
    }

    [Theory]
    [InlineData(503)]
    [InlineData(500)]
    [InlineData(412)]
    [InlineData(429)]
    public async Task RetryableStatus_IsRetried_UntilVaultAnswers(int status)
    {
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = FailThenSucceed(2, status);
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);

        using var response = await proxy.Client.GetAsync("/v1/secret/data/app");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, upstream.RequestCount);
    }

    [Fact]
    public async Task TooManyRequests_WaitsForRetryAfter_BeforeRetrying()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var calls = 0;
        var times = new List<long>();
        upstream.Handler = async context =>
        {
            lock (times)
            {
                times.Add(Environment.TickCount64);
            }

            if (Interlocked.Increment(ref calls) == 1)
            {
                context.Response.StatusCode = 429;
                context.Response.Headers.RetryAfter = "1";
                await context.Response.WriteAsync("{\"errors\":[\"request path \\\"secret/app\\\": rate limit quota exceeded\"]}");
                return;
            }

            await context.Response.WriteAsync("ok");
        };
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);

        using var response = await proxy.Client.GetAsync("/v1/secret/data/app");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, upstream.RequestCount);
        Assert.InRange(times[1] - times[0], 900, 10_000);
    }

    [Fact]
    public async Task PutWithBody_IsRetried_WithTheSameBody()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var calls = 0;
        upstream.Handler = async context =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                context.Response.StatusCode = 503;
                context.Response.Headers.RetryAfter = "0";
                return;
            }

            await TestUpstream.EchoAsync(context);
        };
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);

        using var response = await proxy.Client.PutAsync("/v1/secret/data/app", new StringContent("{\"data\":{\"k\":\"v\"}}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"data\":{\"k\":\"v\"}}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task RetriesExhausted_ReturnsVaultsOwnLastAnswer()
    {
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = FailThenSucceed(int.MaxValue, 503);
        await using var proxy = await ProxyHarness.StartAsync(
            upstream.Address, configure: c => c with { Vault = c.Vault with { NumRetries = 2 } });

        using var response = await proxy.Client.GetAsync("/v1/sys/health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("{\"errors\":[\"attempt 3\"]}", await response.Content.ReadAsStringAsync());
        Assert.Equal(3, upstream.RequestCount);
    }

    [Fact]
    public async Task NotImplemented_IsNotRetried()
    {
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = FailThenSucceed(1, 501);
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);

        using var response = await proxy.Client.GetAsync("/v1/sys/health");

        Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
        Assert.Equal(1, upstream.RequestCount);
    }

    [Fact]
    public async Task NumRetriesMinusOne_DisablesRetries()
    {
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = FailThenSucceed(1, 503);
        await using var proxy = await ProxyHarness.StartAsync(
            upstream.Address, configure: c => c with { Vault = c.Vault with { NumRetries = -1 } });

        using var response = await proxy.Client.GetAsync("/v1/sys/health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, upstream.RequestCount);
    }

    /// <summary>
    /// A Vault Enterprise stand-in: writes bump an index returned in X-Vault-Index; a read carrying an index newer
    /// than this node "has" gets 412 the first <paramref name="staleReads"/> times.
    /// </summary>
    private static (Func<HttpContext, Task> Handler, List<string> SeenIndexes, List<string> SeenInconsistent) ConsistentVault(int staleReads)
    {
        var seen = new List<string>();
        var inconsistent = new List<string>();
        var stale = staleReads;
        var index = 0;
        return (async context =>
        {
            lock (seen)
            {
                seen.Add(context.Request.Headers["X-Vault-Index"].ToString());
                inconsistent.Add(context.Request.Headers["X-Vault-Inconsistent"].ToString());
            }

            if (HttpMethods.IsPut(context.Request.Method))
            {
                context.Response.Headers["X-Vault-Index"] = $"state-{Interlocked.Increment(ref index)}";
                await context.Response.WriteAsync("{}");
                return;
            }

            if (context.Request.Headers.ContainsKey("X-Vault-Index") && Interlocked.Decrement(ref stale) >= 0)
            {
                context.Response.StatusCode = 412;
                context.Response.Headers.RetryAfter = "0";
                await context.Response.WriteAsync("{\"errors\":[\"required index state not present\"]}");
                return;
            }

            await context.Response.WriteAsync("{\"data\":{}}");
        }, seen, inconsistent);
    }

    private static Task<ProxyHarness> StartConsistentAsync(TestUpstream upstream, WhenInconsistent whenInconsistent) =>
        ProxyHarness.StartAsync(
            upstream.Address,
            new ApiProxyConfig { EnforceConsistency = EnforceConsistency.Always, WhenInconsistent = whenInconsistent });

    [Fact]
    public async Task EnforceAlways_SendsTheNewestIndexSeen_OnLaterRequests()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var (handler, seen, _) = ConsistentVault(staleReads: 0);
        upstream.Handler = handler;
        await using var proxy = await StartConsistentAsync(upstream, WhenInconsistent.Retry);

        (await proxy.Client.PutAsync("/v1/secret/data/a", new StringContent("{}"))).Dispose();
        (await proxy.Client.PutAsync("/v1/secret/data/a", new StringContent("{}"))).Dispose();
        using var read = await proxy.Client.GetAsync("/v1/secret/data/a");

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(["", "state-1", "state-2"], seen);
    }

    [Fact]
    public async Task EnforceAlways_ClientsOwnIndex_IsNotReplaced()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var (handler, seen, _) = ConsistentVault(staleReads: 0);
        upstream.Handler = handler;
        await using var proxy = await StartConsistentAsync(upstream, WhenInconsistent.Retry);
        (await proxy.Client.PutAsync("/v1/secret/data/a", new StringContent("{}"))).Dispose();

        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/secret/data/a");
        request.Headers.Add("X-Vault-Index", "mine");
        (await proxy.Client.SendAsync(request)).Dispose();

        Assert.Equal("mine", seen[^1]);
    }

    [Fact]
    public async Task WhenInconsistentRetry_A412IsRetried_AndTheClientGets200()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var (handler, _, _) = ConsistentVault(staleReads: 2);
        upstream.Handler = handler;
        await using var proxy = await StartConsistentAsync(upstream, WhenInconsistent.Retry);
        (await proxy.Client.PutAsync("/v1/secret/data/a", new StringContent("{}"))).Dispose();

        using var read = await proxy.Client.GetAsync("/v1/secret/data/a");

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(4, upstream.RequestCount);
    }

    [Fact]
    public async Task WhenInconsistentFail_The412ReachesTheClient()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var (handler, _, _) = ConsistentVault(staleReads: 1);
        upstream.Handler = handler;
        await using var proxy = await StartConsistentAsync(upstream, WhenInconsistent.Fail);
        (await proxy.Client.PutAsync("/v1/secret/data/a", new StringContent("{}"))).Dispose();

        using var read = await proxy.Client.GetAsync("/v1/secret/data/a");

        Assert.Equal(HttpStatusCode.PreconditionFailed, read.StatusCode);
        Assert.Contains("required index state not present", await read.Content.ReadAsStringAsync());
        Assert.Equal(2, upstream.RequestCount);
    }

    [Fact]
    public async Task WhenInconsistentForward_AddsTheForwardHeader()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var (handler, _, inconsistent) = ConsistentVault(staleReads: 0);
        upstream.Handler = handler;
        await using var proxy = await StartConsistentAsync(upstream, WhenInconsistent.Forward);
        (await proxy.Client.PutAsync("/v1/secret/data/a", new StringContent("{}"))).Dispose();

        (await proxy.Client.GetAsync("/v1/secret/data/a")).Dispose();

        Assert.Equal(["", "forward-active-node"], inconsistent);
    }
}
