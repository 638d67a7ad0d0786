using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Configuration;
using Gatehouse.DevVault;
using Gatehouse.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.IntegrationTests.ApiProxy;

/// <summary>
/// What real clients and a real Vault exposed on the wire: the Host Gatehouse sends upstream, answers without a body on
/// a reused connection, streamed answers with a cache, methods Vault never routes, and bounded buffering.
/// </summary>
public sealed class WireTests
{
    private static string EchoHead(HttpResponseMessage response) =>
        Uri.UnescapeDataString(response.Headers.GetValues("X-Echo-Head").Single());

    private static async Task<string> RawAsync(Uri address, string request, bool halfClose = false)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(address.Host, address.Port);
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        if (halfClose)
        {
            socket.Shutdown(SocketShutdown.Send);
        }

        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await socket.ReceiveAsync(buffer)) > 0)
        {
            received.Write(buffer, 0, read);
        }

        return Encoding.ASCII.GetString(received.ToArray());
    }

    [Fact]
    public async Task TheClientsHost_IsNeverSentUpstream_VaultsIs()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/sys/health");
        request.Headers.Host = "app.internal.example";

        using var response = await proxy.Client.SendAsync(request);
        var goStyle = await RawAsync(
            proxy.Client.BaseAddress!, "GET /v1/sys/health HTTP/1.1\r\nHost: \r\nUser-Agent: Go-http-client/1.1\r\nConnection: close\r\n\r\n");

        Assert.Contains($"host: 127.0.0.1:{upstream.Port}\n", EchoHead(response), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 200", goStyle, StringComparison.Ordinal);
        Assert.Contains(Uri.EscapeDataString($"host: 127.0.0.1:{upstream.Port}\n"), goStyle, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpsVault_WithACertificateForADnsName_TlsServerName_IsUsedForSniAndTheNameCheck()
    {
        await using var vault = await DevVaultServer.StartAsync(new DevVaultOptions { TlsServerName = "vault.test" });
        using var caDirectory = new TempDirectory("gatehouse-ca-");
        var caFile = caDirectory.Combine("ca.pem");
        await File.WriteAllTextAsync(caFile, vault.TlsCaCertificatePem);
        await using var proxy = await ProxyHarness.StartAsync($"https://127.0.0.1:{vault.Address.Port}", configure: c => c with
        {
            Vault = c.Vault with { TlsServerName = "vault.test", CaCert = caFile },
        });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/auth/token/lookup-self");
        request.Headers.Host = "gatehouse.app.example";
        request.Headers.Add("X-Vault-Token", vault.RootToken);

        using var proxied = await proxy.Client.SendAsync(request);
        using var client = Gatehouse.Vault.VaultClient.Create(proxy.Host.Config, null, TimeProvider.System);
        var own = await client.LookupSelfAsync(vault.RootToken, CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
        Assert.True(own.IsSuccess, own.Error?.ToString());
        Directory.Delete(Path.GetDirectoryName(caFile)!, recursive: true);
    }

    [Fact]
    public async Task BehindAnIngressThatRoutesByHost_ProxiedRequestsReachVault()
    {
        // The ingress routes only requests for its Vault name; a client's own Host would get the default backend's 404.
        await using var vault = await DevVaultServer.StartAsync(new DevVaultOptions { IngressHost = "localhost" });
        await using var proxy = await ProxyHarness.StartAsync($"http://localhost:{vault.Address.Port}", new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.Force });
        proxy.PublishToken(vault.RootToken);
        using var health = new HttpRequestMessage(HttpMethod.Get, "/v1/sys/health");
        health.Headers.Host = "gatehouse.app.example";

        using var response = await proxy.Client.SendAsync(health);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"initialized\":true", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    public static TheoryData<bool, bool> Chains() => new() { { false, false }, { false, true }, { true, false }, { true, true } };

    /// <summary>Every answer Vault sends without a body, one after another on one keep-alive connection, through every chain.</summary>
    [Theory]
    [MemberData(nameof(Chains))]
    public async Task AnswersWithoutABody_KeepTheConnection_ThroughEveryChain(bool cache, bool autoAuth)
    {
        await using var vault = await DevVaultServer.StartAsync(new DevVaultOptions());
        await using var proxy = await ProxyHarness.StartAsync(
            vault.Address.ToString().TrimEnd('/'),
            new ApiProxyConfig { UseAutoAuthToken = autoAuth ? AutoAuthTokenMode.Force : AutoAuthTokenMode.Off },
            c => cache ? c with { Cache = new CacheConfig() } : c);
        proxy.PublishToken(vault.RootToken);
        var connections = 0;
        using var client = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            ConnectCallback = async (context, token) =>
            {
                Interlocked.Increment(ref connections);
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(context.DnsEndPoint, token);
                return new NetworkStream(socket, ownsSocket: true);
            },
        }) { BaseAddress = proxy.Client.BaseAddress };

        async Task<HttpResponseMessage> Send(string method, string path, string? body = null)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            request.Headers.Add("X-Vault-Token", vault.RootToken);
            if (body is not null)
            {
                request.Content = new StringContent(body, Encoding.UTF8, "application/json");
            }

            var response = await client.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
            return response;
        }

        var steps = new (string Method, string Path, string? Body, HttpStatusCode Expected)[]
        {
            ("POST", "/v1/sys/mounts/kv", """{"type":"kv","options":{"version":"1"}}""", HttpStatusCode.NoContent),
            ("PUT", "/v1/kv/app", """{"a":"b"}""", HttpStatusCode.NoContent),
            ("GET", "/v1/kv/app", null, HttpStatusCode.OK),
            ("DELETE", "/v1/kv/app", null, HttpStatusCode.NoContent),
            ("PUT", "/v1/secret/data/app", """{"data":{"a":"b"}}""", HttpStatusCode.OK),
            ("DELETE", "/v1/secret/metadata/app", null, HttpStatusCode.NoContent),
            ("HEAD", "/v1/sys/health", null, HttpStatusCode.OK),
            ("PUT", "/v1/sys/policies/acl/p", """{"policy":"path \"x\" { capabilities = [\"read\"] }"}""", HttpStatusCode.NoContent),
            ("POST", "/v1/auth/token/create", """{"ttl":"1h"}""", HttpStatusCode.OK),
            ("GET", "/v1/sys/health", null, HttpStatusCode.OK),
        };
        foreach (var (method, path, body, expected) in steps)
        {
            using var response = await Send(method, path, body);
            Assert.True(expected == response.StatusCode, $"{method} {path}: {(int)response.StatusCode}");
        }

        using var created = await Send("POST", "/v1/auth/token/create", """{"ttl":"1h","policies":["default"]}""");
        var child = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["auth"]!["client_token"]!.GetValue<string>();
        using var revoke = await Send("POST", "/v1/auth/token/revoke", $$"""{"token":"{{child}}"}""");
        using var after = await Send("GET", "/v1/sys/health");

        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(1, connections);
    }

    [Theory]
    [MemberData(nameof(Chains))]
    public async Task NotModifiedAndHead_FromUpstream_KeepTheConnection(bool cache, bool autoAuth)
    {
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = context =>
        {
            context.Response.ContentType = "application/json";
            if (context.Request.Path == "/v1/not-modified")
            {
                context.Response.StatusCode = 304;
                return Task.CompletedTask;
            }

            context.Response.ContentLength = 15;
            return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync("""{"data":"abc"}""" + "\n");
        };
        await using var proxy = await ProxyHarness.StartAsync(
            upstream.Address,
            new ApiProxyConfig { UseAutoAuthToken = autoAuth ? AutoAuthTokenMode.Force : AutoAuthTokenMode.Off },
            c => cache ? c with { Cache = new CacheConfig() } : c);
        proxy.PublishToken("s.auto");

        var answers = await RawAsync(
            proxy.Client.BaseAddress!,
            "GET /v1/not-modified HTTP/1.1\r\nHost: x\r\n\r\n" + "HEAD /v1/thing HTTP/1.1\r\nHost: x\r\n\r\n"
            + "GET /v1/thing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        var parts = answers.Split("HTTP/1.1 ");
        Assert.Equal(4, parts.Length);
        Assert.StartsWith("304", parts[1], StringComparison.Ordinal);
        Assert.StartsWith("200", parts[2], StringComparison.Ordinal);
        Assert.Contains("Content-Length: 15\r\n", parts[2], StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n", parts[2], StringComparison.Ordinal);
        Assert.StartsWith("200", parts[3], StringComparison.Ordinal);
        Assert.EndsWith("""{"data":"abc"}""" + "\n", parts[3], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Chains))]
    public async Task AStreamedAnswer_Streams_WithOrWithoutACache(bool cache, bool autoAuth)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = async context =>
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("2026-12-07T05:00:00.000Z [INFO]  core: first line, token s.auto here\n");
            await context.Response.Body.FlushAsync();
            await release.Task;
            await context.Response.WriteAsync("2026-12-07T05:00:01.000Z [INFO]  core: second line\n");
        };
        await using var proxy = await ProxyHarness.StartAsync(
            upstream.Address,
            new ApiProxyConfig { UseAutoAuthToken = autoAuth ? AutoAuthTokenMode.Force : AutoAuthTokenMode.Off },
            c => cache ? c with { Cache = new CacheConfig() } : c);
        proxy.PublishToken("s.auto");

        using var response = await proxy.Client.GetAsync("/v1/sys/monitor?log_level=debug", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync();
        release.SetResult();
        var second = await reader.ReadLineAsync();

        Assert.Equal(
            autoAuth ? "2026-12-07T05:00:00.000Z [INFO]  core: first line, token ****** here" : "2026-12-07T05:00:00.000Z [INFO]  core: first line, token s.auto here",
            first);
        Assert.Equal("2026-12-07T05:00:01.000Z [INFO]  core: second line", second);
    }

    [Theory]
    [InlineData("CONNECT")]
    [InlineData("TRACE")]
    public async Task ConnectAndTrace_AreAnswered405AtOnce_NeverForwarded(string method)
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address, new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.Force });
        proxy.PublishToken("s.auto");

        var answer = await RawAsync(proxy.Client.BaseAddress!, $"{method} /v1/sys/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 405", answer, StringComparison.Ordinal);
        Assert.EndsWith("""{"errors":[]}""", answer, StringComparison.Ordinal);
        Assert.Equal(0, upstream.RequestCount);
    }

    /// <summary>A client that sends its request and then shuts down its write side (<c>nc -N</c>) still gets its answers.</summary>
    [Fact]
    public async Task AHalfClosedClient_GetsItsAnswers()
    {
        await using var vault = await DevVaultServer.StartAsync(new DevVaultOptions());
        await using var proxy = await ProxyHarness.StartAsync(vault.Address.ToString().TrimEnd('/'), configure: c => c with { Cache = new CacheConfig() });

        var answer = await RawAsync(
            proxy.Client.BaseAddress!,
            "GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n" + $"GET /v1/auth/token/lookup-self HTTP/1.1\r\nHost: x\r\nX-Vault-Token: {vault.RootToken}\r\n\r\n",
            halfClose: true);

        var parts = answer.Split("HTTP/1.1 ");
        Assert.Equal(3, parts.Length);
        Assert.StartsWith("200", parts[1], StringComparison.Ordinal);
        Assert.StartsWith("200", parts[2], StringComparison.Ordinal);
        Assert.Contains("\"policies\":[\"root\"]", parts[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownMethod_IsForwarded_AndVaultsAnswerComesBack()
    {
        await using var vault = await DevVaultServer.StartAsync(new DevVaultOptions());
        await using var proxy = await ProxyHarness.StartAsync(vault.Address.ToString().TrimEnd('/'));

        var answer = await RawAsync(proxy.Client.BaseAddress!, "BREW /v1/sys/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 405", answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AChunkedJsonAnswerLargerThanTheCacheReads_StreamsThroughWhole_AndIsNotCached()
    {
        var big = "{\"data\":{\"blob\":\"" + new string('x', 3 * 1024 * 1024) + "\"},\"lease_id\":\"x/1\",\"renewable\":true,\"lease_duration\":60}";
        await using var upstream = await TestUpstream.StartAsync();
        upstream.Handler = async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.Body.FlushAsync();
            await context.Response.WriteAsync(big);
        };
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address, configure: c => c with { Cache = new CacheConfig() });

        using var first = await proxy.Client.GetAsync("/v1/big/secret");
        using var second = await proxy.Client.GetAsync("/v1/big/secret");

        Assert.Equal(big, await first.Content.ReadAsStringAsync());
        Assert.Equal(big, await second.Content.ReadAsStringAsync());
        Assert.Equal(2, upstream.RequestCount);
    }

    [Fact]
    public async Task AChunkedRequestBodyLargerThanTheCacheReads_StreamsThroughWhole()
    {
        var body = new byte[5 * 1024 * 1024];
        new Random(7).NextBytes(body);
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address, configure: c => c with { Cache = new CacheConfig() });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/token/create") { Content = new ByteArrayContent(body) };
        request.Headers.TransferEncodingChunked = true;

        using var response = await proxy.Client.SendAsync(request);

        Assert.Contains("transfer-encoding: chunked\n", EchoHead(response), StringComparison.Ordinal);
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync());
    }
}
