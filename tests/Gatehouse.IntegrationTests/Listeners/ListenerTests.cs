using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.Configuration;
using Gatehouse.Hosting;
using Gatehouse.IntegrationTests.Support;
using Gatehouse.Listeners;

namespace Gatehouse.IntegrationTests.Listeners;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ListenerTests
{
    private static ListenerConfig Tcp(string address = "127.0.0.1:0") => new() { Type = ListenerType.Tcp, Address = address, TlsDisable = true };

    [Fact]
    public async Task MetricsOnly_ServesMetrics_AndEverythingElseIs404()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address, listener: Tcp() with { Role = ListenerRole.MetricsOnly });

        using var metrics = await proxy.Client.GetAsync("/agent/v1/metrics");
        using var health = await proxy.Client.GetAsync("/v1/sys/health");
        using var quit = await proxy.Client.PostAsync("/proxy/v1/quit", null);

        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.NotNull(JsonNode.Parse(await metrics.Content.ReadAsStringAsync())!["Counters"]);
        Assert.Equal(HttpStatusCode.NotFound, health.StatusCode);
        Assert.Equal("404 page not found\n", await health.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, quit.StatusCode);
        Assert.Equal(0, upstream.RequestCount);
    }

    [Fact]
    public async Task Metrics_CountProxiedSuccessesAndErrors_AndRejectNonGet()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);
        (await proxy.Client.GetAsync("/v1/sys/health")).Dispose();
        (await proxy.Client.GetAsync("/v1/sys/health")).Dispose();

        using var metrics = await proxy.Client.GetAsync("/proxy/v1/metrics");
        using var post = await proxy.Client.PostAsync("/proxy/v1/metrics", null);

        var counters = JsonNode.Parse(await metrics.Content.ReadAsStringAsync())!["Counters"]!.AsArray();
        var success = counters.Single(c => c!["Name"]!.GetValue<string>() == "vault.agent.proxy.success");
        Assert.Equal(2, success!["Count"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal("{\"errors\":[]}", await post.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task RequireRequestHeader_WithoutHeader_Answers412_ButBuiltInsStillWork()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address, listener: Tcp() with { RequireRequestHeader = true });

        using var missing = await proxy.Client.GetAsync("/v1/sys/health");
        using var wrongValue = new HttpRequestMessage(HttpMethod.Get, "/v1/sys/health") { Headers = { { "X-Vault-Request", "yes" } } };
        using var wrong = await proxy.Client.SendAsync(wrongValue);
        using var withHeader = new HttpRequestMessage(HttpMethod.Get, "/v1/sys/health") { Headers = { { "X-Vault-Request", "true" } } };
        using var ok = await proxy.Client.SendAsync(withHeader);
        using var metrics = await proxy.Client.GetAsync("/agent/v1/metrics");
        using var cacheClear = await proxy.Client.PostAsync("/agent/v1/cache-clear", null);

        Assert.Equal(HttpStatusCode.PreconditionFailed, missing.StatusCode);
        Assert.Equal("{\"errors\":[\"missing \\\"X-Vault-Request\\\" header\"]}", await missing.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.PreconditionFailed, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal(HttpStatusCode.OK, cacheClear.StatusCode);
        Assert.Equal(1, upstream.RequestCount);
    }

    [Fact]
    public async Task CacheClear_WithNoCache_Answers200WithAnEmptyBody()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);

        using var response = await proxy.Client.PostAsync("/proxy/v1/cache-clear", new StringContent("{\"type\":\"all\"}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, upstream.RequestCount);
    }

    [Fact]
    public async Task Quit_WhenDisabled_Is404()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);

        using var response = await proxy.Client.PostAsync("/agent/v1/quit", null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.False(proxy.Host.Stopping.IsCompleted);
    }

    [Fact]
    public async Task Quit_WhenEnabled_GetIs405_PostIs200AndStopsTheHost()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address, listener: Tcp() with { EnableQuit = true });

        using var get = await proxy.Client.GetAsync("/proxy/v1/quit");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.False(proxy.Host.Stopping.IsCompleted);

        using var post = await proxy.Client.PostAsync("/proxy/v1/quit", null);
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        await proxy.Host.Stopping.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task UnixSocket_ServesRequests_WithModeAndOwnerApplied()
    {
        await using var upstream = await TestUpstream.StartAsync();
        using var directory = new TempDirectory("gatehouse-sock-");
        var socket = Path.Combine(directory, "g.sock");
        // As root the socket can be given to another group (1, "daemon" on Debian); otherwise keep our own.
        var root = Environment.UserName == "root";
        var gid = root ? "1" : Stat(directory).Split(':')[1];
        await using var proxy = await ProxyHarness.StartAsync(
            upstream.Address,
            listener: new ListenerConfig
            {
                Type = ListenerType.Unix, Address = socket, TlsDisable = true, SocketMode = Convert.ToInt32("660", 8), SocketUser = Stat(directory).Split(':')[0], SocketGroup = gid,
            });

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(socket));
        Assert.Equal(gid, Stat(socket).Split(':')[1]);
        using var client = UnixClient(socket);
        using var response = await client.GetAsync("/v1/sys/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task UnixSocket_StaleSocketFileFromAnEarlierRun_IsReplaced()
    {
        await using var upstream = await TestUpstream.StartAsync();
        using var directory = new TempDirectory("gatehouse-sock-");
        var socket = Path.Combine(directory, "g.sock");
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            stale.Bind(new UnixDomainSocketEndPoint(socket));
        }

        await using var proxy = await ProxyHarness.StartAsync(upstream.Address, listener: new ListenerConfig { Type = ListenerType.Unix, Address = socket, TlsDisable = true });
        using var client = UnixClient(socket);
        using var response = await client.GetAsync("/v1/sys/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task SeveralListeners_TcpIpv4Ipv6AndUnix_AllServe()
    {
        await using var upstream = await TestUpstream.StartAsync();
        using var directory = new TempDirectory("gatehouse-sock-");
        var socket = Path.Combine(directory, "g.sock");
        var listeners = new List<ListenerConfig> { Tcp(), new() { Type = ListenerType.Unix, Address = socket, TlsDisable = true } };
        if (Socket.OSSupportsIPv6)
        {
            listeners.Add(Tcp("[::1]:0"));
        }

        await using var host = await GatehouseHost.StartAsync(new GatehouseConfig
        {
            Vault = new VaultConfig { Address = upstream.Address },
            Listeners = listeners,
        });

        Assert.Equal(listeners.Count, host.Addresses.Count);
        foreach (var bound in host.Addresses)
        {
            using var client = bound.SocketPath is { } path ? UnixClient(path) : new HttpClient { BaseAddress = bound.Address };
            using var response = await client.GetAsync("/v1/sys/health");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task MalformedRequest_Gets400_AndTheListenerKeepsServing()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);
        var endPoint = proxy.Host.Addresses[0].EndPoint!;

        using (var raw = new TcpClient())
        {
            await raw.ConnectAsync(endPoint);
            var stream = raw.GetStream();
            await stream.WriteAsync("GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n"u8.ToArray());
            var buffer = new byte[256];
            var read = await stream.ReadAsync(buffer);
            Assert.StartsWith("HTTP/1.1 400", Encoding.ASCII.GetString(buffer, 0, read));
        }

        using var response = await proxy.Client.GetAsync("/v1/sys/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task HugeHeaders_Get431_AndTheListenerKeepsServing()
    {
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(upstream.Address);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/sys/health");
        request.Headers.Add("X-Big", new string('a', 2 * 1024 * 1024));

        using var big = await proxy.Client.SendAsync(request);
        using var ok = await proxy.Client.GetAsync("/v1/sys/health");

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, big.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Tls_ServesHttps_WithThePemCertificate()
    {
        using var certificates = TestCertificates.Create();
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(
            upstream.Address,
            listener: new ListenerConfig
            {
                Type = ListenerType.Tcp, Address = "127.0.0.1:0", TlsCertFile = certificates.ServerCertFile, TlsKeyFile = certificates.ServerKeyFile,
            });
        Assert.Equal("https", proxy.Host.Addresses[0].Address.Scheme);

        using var client = certificates.CreateClient(proxy.Host.Addresses[0].Address, presentClientCertificate: false);
        using var response = await client.GetAsync("/v1/sys/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task MutualTls_RequiresAClientCertificateSignedByTheClientCa()
    {
        using var certificates = TestCertificates.Create();
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(
            upstream.Address,
            listener: new ListenerConfig
            {
                Type = ListenerType.Tcp, Address = "127.0.0.1:0", TlsCertFile = certificates.ServerCertFile, TlsKeyFile = certificates.ServerKeyFile,
                TlsRequireAndVerifyClientCert = true, TlsClientCaFile = certificates.CaFile,
            });
        var address = proxy.Host.Addresses[0].Address;

        using var withCertificate = certificates.CreateClient(address, presentClientCertificate: true);
        using var ok = await withCertificate.GetAsync("/v1/sys/health");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        using var without = certificates.CreateClient(address, presentClientCertificate: false);
        await Assert.ThrowsAsync<HttpRequestException>(() => without.GetAsync("/v1/sys/health"));
    }

    [Fact]
    public async Task TlsCipherSuites_OnlyTheListedTls12SuiteIsAccepted()
    {
        using var certificates = TestCertificates.Create();
        await using var upstream = await TestUpstream.StartAsync();
        await using var proxy = await ProxyHarness.StartAsync(
            upstream.Address,
            listener: new ListenerConfig
            {
                Type = ListenerType.Tcp, Address = "127.0.0.1:0", TlsCertFile = certificates.ServerCertFile, TlsKeyFile = certificates.ServerKeyFile,
                TlsCipherSuites = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            });
        var address = proxy.Host.Addresses[0].Address;

        Assert.Equal(TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, await HandshakeAsync(address, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256));
        await Assert.ThrowsAnyAsync<Exception>(() => HandshakeAsync(address, TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384));

        // TLS 1.3 suites are not configurable in Go either, and stay available.
        using var client = certificates.CreateClient(address, presentClientCertificate: false);
        using var response = await client.GetAsync("/v1/sys/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        async Task<TlsCipherSuite> HandshakeAsync(Uri target, TlsCipherSuite only)
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(target.Host, target.Port);
            await using var ssl = new SslStream(tcp.GetStream());
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                EnabledSslProtocols = SslProtocols.Tls12,
                CipherSuitesPolicy = new CipherSuitesPolicy([only]),
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate?.GetCertHashString() == certificates.Server.GetCertHashString(),
            });
            return ssl.NegotiatedCipherSuite;
        }
    }

    [Fact]
    public async Task TlsCipherSuites_UnknownName_StopsStartup_NamingIt()
    {
        using var certificates = TestCertificates.Create();
        var config = new GatehouseConfig
        {
            Vault = new VaultConfig { Address = "http://127.0.0.1:1" },
            Listeners =
            [
                new ListenerConfig
                {
                    Type = ListenerType.Tcp, Address = "127.0.0.1:0", TlsCertFile = certificates.ServerCertFile, TlsKeyFile = certificates.ServerKeyFile,
                    TlsCipherSuites = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_NO_SUCH_SUITE",
                },
            ],
        };

        var exception = await Assert.ThrowsAsync<ListenerStartupException>(() => GatehouseHost.StartAsync(config));

        Assert.Contains("tls_cipher_suites", exception.Message);
        Assert.Contains("\"TLS_NO_SUCH_SUITE\"", exception.Message);
    }

    [Fact]
    public async Task Tls_UnreadableCertificateFile_StopsStartup_NamingTheFile()
    {
        var missing = Path.Combine(Path.GetTempPath(), "gatehouse-no-such-cert.pem");
        var config = new GatehouseConfig
        {
            Vault = new VaultConfig { Address = "http://127.0.0.1:1" },
            Listeners = [new ListenerConfig { Type = ListenerType.Tcp, Address = "127.0.0.1:0", TlsCertFile = missing, TlsKeyFile = missing }],
        };

        var exception = await Assert.ThrowsAsync<ListenerStartupException>(() => GatehouseHost.StartAsync(config));

        Assert.Contains(missing, exception.Message);
        Assert.StartsWith("listener 0 (tcp 127.0.0.1:0)", exception.Message);
    }

    [Fact]
    public async Task RunAsync_QuitEndpoint_ExitsZero()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var port = FreePort();
        var config = new GatehouseConfig
        {
            Vault = new VaultConfig { Address = upstream.Address },
            Listeners = [Tcp($"127.0.0.1:{port}") with { EnableQuit = true }],
        };
        using var stdout = new CapturingWriter();
        using var stderr = new StringWriter();

        var run = DaemonRunner.RunAsync(config, new GatehouseHostOptions(), stdout, TextWriter.Synchronized(stderr), CancellationToken.None);

        // The banner is printed once the listeners are up: then the quit endpoint answers.
        var started = stdout.WaitForAsync("==> Gatehouse Proxy started!", TimeSpan.FromSeconds(30));
        Assert.Same(started, await Task.WhenAny(started, run));
        await started;
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var quit = await client.PostAsync("/agent/v1/quit", null);

        Assert.Equal(HttpStatusCode.OK, quit.StatusCode);
        Assert.Equal(ExitCodes.Success, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains($"Api Address 1: http://127.0.0.1:{port}", stdout.ToString());
        quit.Dispose();
    }

    /// <summary>"uid:gid" of a file, from stat(1): .NET exposes no owner.</summary>
    private static string Stat(string path)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%u:%g", path]) { RedirectStandardOutput = true })!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return output;
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    internal static HttpClient UnixClient(string path) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        },
    })
    { BaseAddress = new Uri("http://localhost") };
}
