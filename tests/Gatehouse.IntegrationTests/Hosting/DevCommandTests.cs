using System.Net;
using Gatehouse.Hosting;

namespace Gatehouse.IntegrationTests.Hosting;

public sealed class DevCommandTests
{
    [Fact]
    public async Task Dev_StartsDevVaultAndProxy_PrintedLinesWork_AndCtrlCStopsBothAndRemovesCredentials()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ready = new TaskCompletionSource<DevSession>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stdout = new StringWriter();
        var run = DevCommand.RunAsync(
            ["-dev-listen-address=127.0.0.1:0", "-proxy-address", "127.0.0.1:0", "-dev-root-token-id=dev-root"],
            TextWriter.Synchronized(stdout), TextWriter.Null, ready.SetResult, cts.Token);

        var session = await ready.Task.WaitAsync(cts.Token);
        using var http = new HttpClient { BaseAddress = session.ProxyAddress };

        // The printed lines name the real, bound addresses and the chosen root token.
        var banner = stdout.ToString();
        Assert.Contains("DEVELOPMENT ONLY", banner, StringComparison.Ordinal);
        Assert.Contains($"curl {session.ProxyAddress.ToString().TrimEnd('/')}/v1/secret/data/hello", banner, StringComparison.Ordinal);
        Assert.Contains("root token: dev-root", banner, StringComparison.Ordinal);

        // The sample secret, through the proxy with no client token: auto-auth supplied one.
        var secret = await http.GetStringAsync("/v1/secret/data/hello", cts.Token);
        Assert.Contains("hello from DevVault", secret, StringComparison.Ordinal);

        // The sink holds a token, and it is the one the proxy uses.
        var sinkToken = await File.ReadAllTextAsync(session.SinkPath, cts.Token);
        Assert.StartsWith("s.", sinkToken, StringComparison.Ordinal);

        // The lease cache answers a repeated child-token creation.
        using var first = await http.PostAsync("/v1/auth/token/create", null, cts.Token);
        using var second = await http.PostAsync("/v1/auth/token/create", null, cts.Token);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("MISS", Assert.Single(first.Headers.GetValues("X-Cache")));
        Assert.Equal("HIT", Assert.Single(second.Headers.GetValues("X-Cache")));
        Assert.Equal(await first.Content.ReadAsStringAsync(cts.Token), await second.Content.ReadAsStringAsync(cts.Token));

        // DevVault answers directly with the chosen root token.
        using var vault = new HttpClient { BaseAddress = session.VaultAddress };
        vault.DefaultRequestHeaders.Add("X-Vault-Token", "dev-root");
        using var health = await vault.GetAsync("/v1/sys/health", cts.Token);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        // Ctrl-C (here: the caller's cancellation) stops both, exits 0, and deletes the credential files.
        await cts.CancelAsync();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromMinutes(1)));
        Assert.False(File.Exists(session.SinkPath));
        Assert.False(Directory.Exists(Path.GetDirectoryName(session.ConfigPath)));
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetAsync("/v1/sys/health", CancellationToken.None));
    }

    [Theory]
    [InlineData("-proxy-address=0.0.0.0:8100")]
    [InlineData("-dev-listen-address=10.1.2.3:8200")]
    [InlineData("-dev-listen-address=localhost:8200")]
    public async Task Dev_WithANonLoopbackAddress_RefusesToStart(string flag)
    {
        var stderr = new StringWriter();
        var code = await DevCommand.RunAsync([flag], TextWriter.Null, stderr, onReady: null, CancellationToken.None);
        Assert.Equal(1, code);
        Assert.Contains("loopback addresses only", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dev_WithARelativeUnixSocketPath_RefusesToStart()
    {
        var stderr = new StringWriter();
        var code = await DevCommand.RunAsync(["-proxy-unix-socket=gatehouse.sock"], TextWriter.Null, stderr, onReady: null, CancellationToken.None);
        Assert.Equal(1, code);
        Assert.Contains("give an absolute path", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void RenderConfig_WithAUnixSocket_AddsAUnixListenerAfterTheTcpOne()
    {
        using var dir = new TempDirectory("dev-config-");
        var path = Path.Combine(dir, "dev.hcl");
        var socket = Path.Combine(dir, "gatehouse.sock");
        File.WriteAllText(path, DevCommand.RenderConfig(
            new Uri("http://127.0.0.1:8200"),
            new Gatehouse.DevVault.DevScenarioResult(Path.Combine(dir, "role_id"), Path.Combine(dir, "secret_id")),
            Path.Combine(dir, "token"),
            new DevCommand.DevOptions("root", "127.0.0.1:8200", "127.0.0.1:8100", "info", socket)));
        var loaded = Gatehouse.Configuration.ConfigLoader.Load([path], static _ => null);
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Diagnostics));
        Assert.Collection(
            loaded.Config!.Listeners,
            tcp => Assert.Equal(("127.0.0.1:8100", Gatehouse.Configuration.ListenerType.Tcp), (tcp.Address, tcp.Type)),
            unix => Assert.Equal((socket, Gatehouse.Configuration.ListenerType.Unix), (unix.Address, unix.Type)));
    }

    [Fact]
    public void RenderConfig_IsAValidGatehouseConfiguration()
    {
        using var dir = new TempDirectory("dev-config-");
        var path = Path.Combine(dir, "dev.hcl");
        File.WriteAllText(path, DevCommand.RenderConfig(
            new Uri("http://127.0.0.1:8200"),
            new Gatehouse.DevVault.DevScenarioResult(Path.Combine(dir, "role_id"), Path.Combine(dir, "secret_id")),
            Path.Combine(dir, "token"),
            new DevCommand.DevOptions("root", "127.0.0.1:8200", "127.0.0.1:8100", "info")));
        var loaded = Gatehouse.Configuration.ConfigLoader.Load([path], static _ => null);
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Diagnostics));
        var config = loaded.Config!;
        Assert.Equal(Gatehouse.Configuration.AutoAuthTokenMode.WhenMissing, config.ApiProxy!.UseAutoAuthToken);
        Assert.NotNull(config.Cache);
        Assert.Equal("approle", config.AutoAuth!.Method.Type);
        Assert.Equal("127.0.0.1:8100", Assert.Single(config.Listeners).Address);
    }
}
