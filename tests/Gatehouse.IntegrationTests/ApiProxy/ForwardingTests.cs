using System.Net;
using System.Net.Http.Headers;
using Gatehouse.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.IntegrationTests.ApiProxy;

public sealed class ForwardingTests
{
    private static string EchoHead(HttpResponseMessage response) =>
        Uri.UnescapeDataString(response.Headers.GetValues("X-Echo-Head").Single());

    [Fact]
    public async Task Get_WithQueryString_ArrivesUnchanged_AndSuccessGetsXCacheMiss()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);

        using var response = await proxy.Client.GetAsync("/v1/secret/data/app?version=2&b=1&a=%2F");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("GET /v1/secret/data/app?version=2&b=1&a=%2F\n", EchoHead(response));
        Assert.Equal("MISS", response.Headers.GetValues("X-Cache").Single());
    }

    /// <summary>
    /// Percent-encoding reaches Vault as the client sent it: Go's server decodes the request-target whole, so
    /// <c>app%2Fdb</c> is the secret <c>app/db</c> for Vault. Sent on as <c>app%252Fdb</c> (re-escaping the <c>%</c> that
    /// Kestrel leaves in <c>Request.Path</c> for an encoded slash), Vault would see another path.
    /// </summary>
    [Theory]
    [InlineData("/v1/secret/data/app%2Fdb")]
    [InlineData("/v1/secret/data/app%2fdb?version=1")]
    [InlineData("/v1/secret/data/a%20b%252F")]
    [InlineData("/v1/secret//data/app")]
    public async Task PercentEncodedPath_ArrivesAsTheClientSentIt(string target)
    {
        await using var upstream = await TestUpstream.StartAsync();
        string? seen = null;
        upstream.Handler = context =>
        {
            seen = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget;
            return Task.CompletedTask;
        };
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);

        using var response = await proxy.Client.GetAsync(new Uri(target, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(target, seen);
    }

    [Fact]
    public async Task UserAgent_IsGatehousesProduct_FollowedByTheClients()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);

        using var withAgent = new HttpRequestMessage(HttpMethod.Get, "/v1/sys/health");
        withAgent.Headers.TryAddWithoutValidation("User-Agent", "vault-cli/1.15 (linux)");
        using var first = await proxy.Client.SendAsync(withAgent);
        using var withOther = new HttpRequestMessage(HttpMethod.Get, "/v1/sys/health");
        withOther.Headers.TryAddWithoutValidation("User-Agent", "terraform/1.9");
        using var second = await proxy.Client.SendAsync(withOther);
        using var without = await proxy.Client.GetAsync("/v1/sys/health");

        var prefix = "Gatehouse API Proxy/" + Gatehouse.ProductInfo.Version;
        Assert.Contains($"\nuser-agent: {prefix}; vault-cli/1.15 (linux)\n", EchoHead(first));
        Assert.Contains($"\nuser-agent: {prefix}; terraform/1.9\n", EchoHead(second));
        Assert.Contains($"\nuser-agent: {prefix}\n", EchoHead(without));
    }

    /// <summary>
    /// A standby stand-in: every request is redirected with <paramref name="status"/> to the same path and query on
    /// the active node (<paramref name="activePort"/>), as a Vault standby does; /v1/cleaned//path is answered like Go's
    /// path cleaning (301 to the cleaned path on the same host).
    /// </summary>
    private static Func<HttpContext, Task> Standby(int status, Func<int> activePort) => context =>
    {
        var raw = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget;
        if (raw.Contains("//", StringComparison.Ordinal))
        {
            context.Response.StatusCode = 301;
            context.Response.Headers.Location = raw.Replace("//", "/", StringComparison.Ordinal);
            return Task.CompletedTask;
        }

        context.Response.StatusCode = status;
        context.Response.Headers.Location = $"http://127.0.0.1:{activePort()}{context.Request.Path.ToUriComponent()}{context.Request.QueryString}";
        return Task.CompletedTask;
    };

    [Theory]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(307)]
    [InlineData(308)]
    public async Task Redirect_ToAnotherServer_IsFollowedOnce_ForIdempotentMethods(int status)
    {
        await using var active = await TestUpstream.StartAsync();
        await using var standby = await TestUpstream.StartAsync();
        standby.Handler = Standby(status, () => active.Port);
        await using var proxy = await ProxyHarness.StartAsync(standby.Address);

        using var get = await proxy.Client.GetAsync("/v1/secret?version=1");
        using var put = await proxy.Client.PutAsync("/v1/write", new StringContent("{\"a\":1}"));

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.StartsWith("GET /v1/secret?version=1\n", EchoHead(get));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.StartsWith("PUT /v1/write\n", EchoHead(put));
        Assert.Equal("{\"a\":1}", await put.Content.ReadAsStringAsync());
        Assert.Equal((2, 2), (standby.RequestCount, active.RequestCount));
    }

    [Fact]
    public async Task Redirect_IsFollowedOnlyOnce_AndPostIsPassedThrough()
    {
        await using var first = await TestUpstream.StartAsync();
        await using var second = await TestUpstream.StartAsync();
        first.Handler = Standby(307, () => second.Port);
        second.Handler = Standby(307, () => first.Port);
        await using var proxy = await ProxyHarness.StartAsync(first.Address);
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = proxy.Client.BaseAddress };

        using var loop = await client.GetAsync("/v1/loop");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, loop.StatusCode);
        Assert.Equal((1, 1), (first.RequestCount, second.RequestCount));

        using var post = await client.PostAsync("/v1/auth/approle/login", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.TemporaryRedirect, post.StatusCode);
        Assert.Equal($"http://127.0.0.1:{second.Port}/v1/auth/approle/login", post.Headers.Location!.OriginalString);
        Assert.Equal((2, 1), (first.RequestCount, second.RequestCount));
    }

    [Fact]
    public async Task Redirect_ToACleanedPath_GoesToTheClient()
    {
        // Go's server answers 301 to the cleaned path for // and ..; following it would change which endpoint is asked.
        await using var vault = await TestUpstream.StartAsync();
        vault.Handler = Standby(307, () => 1);
        await using var proxy = await ProxyHarness.StartAsync(vault.Address);
        using var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = proxy.Client.BaseAddress };

        using var response = await client.GetAsync("/v1/auth/token//lookup-self");

        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal("/v1/auth/token/lookup-self", response.Headers.Location!.OriginalString);
        Assert.Equal(1, vault.RequestCount);
    }

    [Fact]
    public async Task List_Method_IsForwardedAsList()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);

        using var response = await proxy.Client.SendAsync(new HttpRequestMessage(new HttpMethod("LIST"), "/v1/secret/metadata/"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("LIST /v1/secret/metadata/\n", EchoHead(response));
    }

    [Fact]
    public async Task OneMebibyteBody_RoundTripsByteExact()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);
        var body = new byte[1024 * 1024];
        new Random(42).NextBytes(body);

        using var response = await proxy.Client.PutAsync("/v1/secret/data/big", new ByteArrayContent(body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task ChunkedBodyLargerThanRetryBuffer_StreamsThrough()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);
        var body = new byte[3 * 1024 * 1024];
        new Random(7).NextBytes(body);
        using var content = new StreamContent(new MemoryStream(body));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/sys/big") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        using var response = await proxy.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task WrappingAndVaultHeaders_PassThrough_AndHopByHopHeadersDoNot()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/secret/data/app");
        request.Headers.Add("X-Vault-Wrap-TTL", "5m");
        request.Headers.Add("X-Vault-Namespace", "ns1/");
        request.Headers.Add("X-Vault-Request", "true");
        request.Headers.Add("Keep-Alive", "timeout=5");

        using var response = await proxy.Client.SendAsync(request);

        var head = EchoHead(response);
        Assert.Contains("x-vault-wrap-ttl: 5m\n", head);
        Assert.Contains("x-vault-namespace: ns1/\n", head);
        Assert.Contains("x-vault-request: true\n", head);
        Assert.DoesNotContain("keep-alive", head);
    }

    [Fact]
    public async Task UpstreamError_IsPassedThroughVerbatim_WithoutXCache()
    {
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = async context =>
        {
            context.Response.StatusCode = 404;
            context.Response.ContentType = "application/json";
            context.Response.Headers["X-Custom"] = "kept";
            await context.Response.WriteAsync("{\"errors\":[]}\n");
        };
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);

        using var response = await proxy.Client.GetAsync("/v1/secret/data/missing");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("{\"errors\":[]}\n", await response.Content.ReadAsStringAsync());
        Assert.Equal("kept", response.Headers.GetValues("X-Custom").Single());
        Assert.False(response.Headers.Contains("X-Cache"));
    }

    [Fact]
    public async Task UpstreamDown_Answers502Quickly_ThenUpstreamBackUp_Answers200()
    {
        var down = await TestUpstream.StartAsync();
        var port = down.Port;
        await down.DisposeAsync();
        await using var proxy = await ProxyHarness.StartAsync($"http://127.0.0.1:{port}");
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        using var failed = await proxy.Client.GetAsync("/v1/sys/health", guard.Token);

        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Equal("application/json", failed.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"cannot reach Vault at http://127.0.0.1:{port}", await failed.Content.ReadAsStringAsync(guard.Token));

        await using var up = await TestUpstream.StartAsync(port);
        using var ok = await proxy.Client.GetAsync("/v1/sys/health", guard.Token);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task UpstreamSilentPastTimeout_Answers504()
    {
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = context => Task.Delay(Timeout.Infinite, context.RequestAborted);
        await using var proxy = await ProxyHarness.StartAsync(
            upstream.Address, options: new() { UpstreamTimeout = TimeSpan.FromMilliseconds(300), RetryJitter = () => 0 });

        using var response = await proxy.Client.GetAsync("/v1/sys/health");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("did not answer within", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ClientDisconnect_CancelsTheUpstreamRequest()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        upstream.Handler = async context =>
        {
            context.RequestAborted.Register(() => aborted.TrySetResult());
            arrived.TrySetResult();
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        };
        // A client's FIN is taken for its leaving at once here (no grace for half-closed clients).
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address, halfClosedGrace: TimeSpan.Zero);
        using var cancel = new CancellationTokenSource();

        var request = proxy.Client.GetAsync("/v1/sys/slow", cancel.Token);
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task BodyOverMaxRequestSize_Answers413Json()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(
            upstream.Address,
            listener: new() { Type = Configuration.ListenerType.Tcp, Address = "127.0.0.1:0", TlsDisable = true, MaxRequestSize = 1024 });

        using var response = await proxy.Client.PutAsync("/v1/secret/data/x", new ByteArrayContent(new byte[2048]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("max_request_size", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, upstream.RequestCount);
    }

    [Fact]
    public async Task TwoHundredConcurrentClients_AllSucceed()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);

        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            using var client = new HttpClient { BaseAddress = proxy.Client.BaseAddress };
            using var response = await client.GetAsync($"/v1/secret/data/app{i}");
            return (response.StatusCode, Head: EchoHead(response));
        }));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(200, responses.Select(r => r.Head.Split('\n')[0]).Distinct().Count());
    }

    [Fact]
    public async Task UpstreamRetryAfterHeaders_AreNotLeakedFromHeldBackAttempts()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var calls = 0;
        upstream.Handler = async context =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                context.Response.StatusCode = 503;
                context.Response.Headers.RetryAfter = "0";
                context.Response.Headers["X-First"] = "1";
                return;
            }

            await context.Response.WriteAsync("ok");
        };
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);

        using var response = await proxy.Client.GetAsync("/v1/sys/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("X-First"));
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
    }

    internal static MediaTypeHeaderValue Json => new("application/json");
}
