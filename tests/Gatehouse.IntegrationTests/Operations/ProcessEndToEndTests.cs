using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Configuration;
using Gatehouse.Hosting;
using Gatehouse.IntegrationTests.Support;
using Microsoft.Extensions.Logging;

namespace Gatehouse.IntegrationTests.Operations;

/// <summary>SIGHUP reload, graceful stop, pid file and banner through the real host.</summary>
public sealed class ProcessEndToEndTests
{
    private static string TlsListener(string certFile, string keyFile) => $$"""
        listener "tcp" {
          address       = "127.0.0.1:0"
          tls_cert_file = "{{certFile}}"
          tls_key_file  = "{{keyFile}}"
        }
        """;

    private static async Task<X509Certificate2> ServerCertificateAsync(IPEndPoint endPoint)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(endPoint);
#pragma warning disable CA5359 // The test reads whichever certificate the listener presents.
        await using var ssl = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
#pragma warning restore CA5359
        await ssl.AuthenticateAsClientAsync("127.0.0.1");
        return new X509Certificate2(ssl.RemoteCertificate!);
    }

    [Fact]
    public async Task Reload_GoodConfig_ChangesLogLevelAndSwapsTheListenerCertificate()
    {
        using var first = TestCertificates.Create();
        using var second = TestCertificates.Create();
        await using var h = await OpsHarness.StartVaultAsync();
        await File.WriteAllTextAsync(h.PathOf("secret_id"), h.SecretId);
        await h.StartGatehouseAsync(h.Hcl(logLevel: "info", apiListener: TlsListener(first.ServerCertFile, first.ServerKeyFile)));
        var endPoint = h.Host.Addresses[0].EndPoint!;
        Assert.Equal(first.Server.Thumbprint, (await ServerCertificateAsync(endPoint)).Thumbprint);
        Assert.Equal(LogLevel.Information, h.Host.LogLevel);

        await File.WriteAllTextAsync(h.ConfigPath, h.Hcl(logLevel: "debug", apiListener: TlsListener(second.ServerCertFile, second.ServerKeyFile)));
        Assert.True(await h.Host.ReloadAsync());

        Assert.Equal(LogLevel.Debug, h.Host.LogLevel);
        Assert.Equal(second.Server.Thumbprint, (await ServerCertificateAsync(endPoint)).Thumbprint);
        Assert.Contains("configuration reloaded: log level debug, 1 listener certificate(s) reloaded", h.ConsoleLog, StringComparison.Ordinal);

        // Debug is on now: a proxied request writes its one line.
        await h.Host.TokenStore.FirstToken.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
        // The line is written once the response has gone out, so wait for it rather than race it.
        await h.WaitForLogAsync("proxied GET /v1/secret/db: status=200 cache=miss");
    }

    [Fact]
    public async Task Reload_BadConfig_KeepsRunningWithTheOldOne_AndLogsEveryError()
    {
        using var certs = TestCertificates.Create();
        await using var h = await OpsHarness.StartVaultAsync();
        await File.WriteAllTextAsync(h.PathOf("secret_id"), h.SecretId);
        await h.StartGatehouseAsync(h.Hcl(logLevel: "warn", apiListener: TlsListener(certs.ServerCertFile, certs.ServerKeyFile)));
        var endPoint = h.Host.Addresses[0].EndPoint!;

        // Invalid values: a bad log level and a TLS listener whose certificate file does not exist.
        await File.WriteAllTextAsync(h.ConfigPath, h.Hcl(logLevel: "chatty", apiListener: TlsListener(h.PathOf("missing.pem"), h.PathOf("missing-key.pem"))));
        Assert.False(await h.Host.ReloadAsync());
        Assert.Equal(LogLevel.Warning, h.Host.LogLevel);
        Assert.Contains("error reloading configuration:", h.ConsoleLog, StringComparison.Ordinal);
        Assert.Contains("chatty", h.ConsoleLog, StringComparison.Ordinal);
        Assert.Equal(certs.Server.Thumbprint, (await ServerCertificateAsync(endPoint)).Thumbprint);

        // A file that does not parse: still running, still serving.
        await File.WriteAllTextAsync(h.ConfigPath, "listener \"tcp\" {\n  address = \n");
        Assert.False(await h.Host.ReloadAsync());
        Assert.Contains("the previous configuration stays in effect", h.ConsoleLog, StringComparison.Ordinal);

        // The certificate alone is bad (valid config otherwise): nothing is applied, not even the log level.
        await File.WriteAllTextAsync(h.ConfigPath, h.Hcl(logLevel: "debug", apiListener: TlsListener(h.PathOf("missing.pem"), h.PathOf("missing-key.pem"))));
        Assert.False(await h.Host.ReloadAsync());
        Assert.Equal(LogLevel.Warning, h.Host.LogLevel);
        Assert.Contains("cannot load the TLS certificate", h.ConsoleLog, StringComparison.Ordinal);

        await h.Host.TokenStore.FirstToken.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
    }

    [Fact]
    public async Task Reload_SettingsItCannotApply_AreNamedInAWarning_AndKeepTheirOldValues()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await File.WriteAllTextAsync(h.PathOf("secret_id"), h.SecretId);
        var hcl = h.Hcl(logLevel: "info");
        await h.StartGatehouseAsync(hcl);

        // Unchanged files: nothing to warn about.
        Assert.True(await h.Host.ReloadAsync());
        Assert.DoesNotContain("keep their old values until a restart", h.ConsoleLog, StringComparison.Ordinal);

        var changed = hcl
            .Replace("log_level = \"info\"", "log_level = \"debug\"", StringComparison.Ordinal)
            .Replace("use_auto_auth_token = true", "use_auto_auth_token = false", StringComparison.Ordinal)
            .Replace("num_retries = -1", "num_retries = 2", StringComparison.Ordinal);
        await File.WriteAllTextAsync(h.ConfigPath, changed);
        Assert.True(await h.Host.ReloadAsync());

        Assert.Equal(LogLevel.Debug, h.Host.LogLevel);
        var warning = h.ConsoleLog.Split('\n').Single(line => line.Contains("keep their old values until a restart", StringComparison.Ordinal));
        Assert.EndsWith(
            "these changed settings keep their old values until a restart: vault.retry.num_retries, api_proxy.use_auto_auth_token",
            warning.TrimEnd('\r'),
            StringComparison.Ordinal);

        // Still in effect: the auto-auth token is added to a request that carries none.
        await h.Host.TokenStore.FirstToken.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
    }

    [Fact]
    public async Task GracefulStop_LetsAnInFlightSlowRequestFinish()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await File.WriteAllTextAsync(h.PathOf("secret_id"), h.SecretId);
        await h.StartGatehouseAsync(h.Hcl(cache: false));
        await h.Host.TokenStore.FirstToken.WaitAsync(TimeSpan.FromSeconds(30));

        h.Vault.Faults.ResponseDelay = TimeSpan.FromSeconds(1);
        var slow = h.SendAsync(HttpMethod.Get, "/v1/secret/db");
        await h.VaultRequestsAsync("GET", "/v1/secret/db");

        await h.Host.StopAsync();

        var (status, body, _) = await slow.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(200, status);
        Assert.Contains("s3cret-db-password", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Daemon_WritesThePidFileAfterStart_PrintsTheBanner_AndRemovesThePidFileAtExit()
    {
        await using var upstream = await TestUpstream.StartAsync();
        using var dir = new TempDirectory("gatehouse-pid-");
        var pidPath = Path.Combine(dir, "gatehouse.pid");
        await File.WriteAllTextAsync(pidPath, "stale");
        var port = FreePort();
        var config = new GatehouseConfig
        {
            Vault = new VaultConfig { Address = upstream.Address },
            PidFile = pidPath,
            LogLevel = "warn",
            Listeners = [new ListenerConfig { Type = ListenerType.Tcp, Address = $"127.0.0.1:{port}", TlsDisable = true, EnableQuit = true }],
        };
        using var stdout = new CapturingWriter();
        using var stderr = new StringWriter();
        var run = DaemonRunner.RunAsync(config, new GatehouseHostOptions { LogConsole = TextWriter.Null }, stdout, TextWriter.Synchronized(stderr), CancellationToken.None);

        // The banner is printed after the pid file is written.
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var started = stdout.WaitForAsync("==> Gatehouse Proxy started!", OpsHarness.Hang);
        Assert.Same(started, await Task.WhenAny(started, run));
        await started;

        Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), await File.ReadAllTextAsync(pidPath));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(pidPath));
        }

        using var quit = await client.PostAsync("/agent/v1/quit", null);
        Assert.Equal(HttpStatusCode.OK, quit.StatusCode);
        Assert.Equal(ExitCodes.Success, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(File.Exists(pidPath));

        var banner = stdout.ToString();
        Assert.Contains("==> Gatehouse Proxy configuration:", banner, StringComparison.Ordinal);
        Assert.Contains($"Api Address 1: http://127.0.0.1:{port}", banner, StringComparison.Ordinal);
        Assert.Contains("Log Level: warn", banner, StringComparison.Ordinal);
        Assert.Contains("Version: Gatehouse v", banner, StringComparison.Ordinal);
        Assert.Contains("==> Gatehouse Proxy started! Log data will stream in below:", banner, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Daemon_WhenThePidFileCannotBeWritten_Exits1()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var config = new GatehouseConfig
        {
            Vault = new VaultConfig { Address = upstream.Address },
            PidFile = Path.Combine(Path.GetTempPath(), "no-such-dir-" + Guid.NewGuid().ToString("N"), "gatehouse.pid"),
            Listeners = [new ListenerConfig { Type = ListenerType.Tcp, Address = "127.0.0.1:0", TlsDisable = true }],
        };
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await DaemonRunner.RunAsync(config, new GatehouseHostOptions { LogConsole = TextWriter.Null }, stdout, stderr, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(ExitCodes.Error, code);
        Assert.StartsWith("Error storing PID: ", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Executable", "true")]
    public async Task Executable_ListenerOnAnAddressThisHostDoesNotHave_ExitsOne_WithOneLineAndNoStackTrace()
    {
        using var dir = new TempDirectory("gatehouse-exe-");
        var config = Path.Combine(dir, "proxy.hcl");
        await File.WriteAllTextAsync(config, "listener \"tcp\" {\n  address = \"192.0.2.1:8200\"\n  tls_disable = true\n}\napi_proxy {}\n");
        using var cancel = new CancellationTokenSource(OpsHarness.Hang);

        var (code, stdout, stderr) = await GatehouseExecutable.RunAsync(["proxy", $"-config={config}"], cancellationToken: cancel.Token);

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("Error starting listener: listener 0 (tcp 192.0.2.1:8200): bind: ", line, StringComparison.Ordinal);
    }

    [Theory]
    [Trait("Executable", "true")]
    [InlineData("proxy")]
    [InlineData("validate")]
    public async Task Executable_VaultAddrThatIsNotAUrl_IsRefusedAtValidation_ExitsOne(string command)
    {
        using var dir = new TempDirectory("gatehouse-exe-");
        var config = Path.Combine(dir, "proxy.hcl");
        await File.WriteAllTextAsync(config, "listener \"tcp\" {\n  address = \"127.0.0.1:0\"\n  tls_disable = true\n}\napi_proxy {}\n");
        using var cancel = new CancellationTokenSource(OpsHarness.Hang);

        var (code, _, stderr) = await GatehouseExecutable.RunAsync(
            [command, $"-config={config}"], new Dictionary<string, string> { ["VAULT_ADDR"] = "not a url" }, cancel.Token);

        Assert.Equal(1, code);
        Assert.Equal(
            "environment variable VAULT_ADDR: vault.address: invalid address \"not a url\": missing protocol scheme; use a URL such as https://127.0.0.1:8200\n" +
            "error validating configuration: 1 problem found; nothing was started\n",
            stderr);
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
