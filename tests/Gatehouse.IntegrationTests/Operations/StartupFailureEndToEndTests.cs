using System.Net;
using Gatehouse.Configuration;
using Gatehouse.Hosting;
using Gatehouse.IntegrationTests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gatehouse.IntegrationTests.Operations;

/// <summary>
/// What only start-up can find (an address this host does not have, a port in use, a missing directory, a file that
/// cannot be read): one line on stderr naming what failed and why, and exit code 1. Never a stack trace.
/// </summary>
public sealed partial class StartupFailureEndToEndTests : IDisposable
{
    /// <summary>A safety net only: a configuration that started after all is stopped, and the test fails.</summary>
    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(1);

    private readonly TempDirectory _dir = new("gatehouse-startup-");

    public void Dispose() => _dir.Dispose();

    private static string TcpListener(string address) => $"listener \"tcp\" {{\n  address = \"{address}\"\n  tls_disable = true\n}}\napi_proxy {{}}\n";

    private async Task<(int Code, string Stderr)> ProxyAsync(string hcl)
    {
        var file = Path.Combine(_dir, "proxy.hcl");
        await File.WriteAllTextAsync(file, hcl);
        using var cancel = new CancellationTokenSource(Hang);
        var stderr = new StringWriter();
        var code = await GatehouseCommand.RunAsync(["proxy", $"-config={file}"], TextWriter.Null, stderr, _ => null, cancel.Token);
        Assert.False(cancel.IsCancellationRequested, "the daemon started");
        return (code, stderr.ToString());
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[")]
    private static partial System.Text.RegularExpressions.Regex HclogTimestamp();

    private static void AssertOneLine(string stderr, string startsWith)
    {
        // The daemon's log lines now reach the stderr the command is given (as in the real process); they are not the
        // start-up failure's report. (An auto-auth line can come first: auth starts before a sink's check fails.)
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => !HclogTimestamp().IsMatch(l));
        Assert.StartsWith(startsWith, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_ListenerOnAnAddressThisHostDoesNotHave_NamesTheListenerAndTheReason_ExitsOne()
    {
        // 192.0.2.0/24 is TEST-NET-1: reserved for documentation, never a host's address.
        var (code, stderr) = await ProxyAsync(TcpListener("192.0.2.1:8200"));

        Assert.Equal(ExitCodes.Error, code);
        AssertOneLine(stderr, "Error starting listener: listener 0 (tcp 192.0.2.1:8200): bind: ");
        Assert.Contains("no network interface of this host has that address", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_UnixSocketInAMissingDirectory_SaysWhichDirectory_ExitsOne()
    {
        if (OperatingSystem.IsWindows())
            return;
        var socket = Path.Combine(_dir, "missing", "gatehouse.sock");

        var (code, stderr) = await ProxyAsync($"listener \"unix\" {{\n  address = \"{socket}\"\n  tls_disable = true\n}}\napi_proxy {{}}\n");

        Assert.Equal(ExitCodes.Error, code);
        AssertOneLine(stderr, $"Error starting listener: listener 0 (unix {socket}): bind: the directory {Path.Combine(_dir, "missing")} does not exist");
    }

    [Fact]
    public async Task Proxy_PortInUseByAnotherProcess_NamesTheListenerAndTheReason_ExitsOne()
    {
        using var occupied = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        occupied.Start();
        var port = ((IPEndPoint)occupied.LocalEndpoint).Port;

        var (code, stderr) = await ProxyAsync(TcpListener($"127.0.0.1:{port}"));

        Assert.Equal(ExitCodes.Error, code);
        AssertOneLine(stderr, $"Error starting listener: listener 0 (tcp 127.0.0.1:{port}): bind: ");
        Assert.Contains("Address already in use", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_SecondListenerCannotBind_IsTheOneNamed()
    {
        using var occupied = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        occupied.Start();
        var port = ((IPEndPoint)occupied.LocalEndpoint).Port;

        var (code, stderr) = await ProxyAsync(TcpListener("127.0.0.1:0").Replace("api_proxy {}\n", "", StringComparison.Ordinal) + TcpListener($"127.0.0.1:{port}"));

        Assert.Equal(ExitCodes.Error, code);
        AssertOneLine(stderr, $"Error starting listener: listener 1 (tcp 127.0.0.1:{port}): bind: ");
    }

    [Fact]
    public async Task Proxy_SinkDirectoryMissing_IsOneLine_ExitsOne()
    {
        var sink = Path.Combine(_dir, "no-such-dir", "token");

        var (code, stderr) = await ProxyAsync($$"""
            vault {
              address = "http://127.0.0.1:1"
            }
            auto_auth {
              method "token_file" {
                config = {
                  token_file_path = "{{Path.Combine(_dir, "token-in")}}"
                }
              }
              sink "file" {
                config = {
                  path = "{{sink}}"
                }
              }
            }
            """);

        Assert.Equal(ExitCodes.Error, code);
        AssertOneLine(stderr, $"error creating file sink: error during write check: the directory {Path.GetDirectoryName(sink)} does not exist");
    }

    [Fact]
    public async Task Proxy_LogFileThatCannotBeOpened_SaysItIsTheLogFile_ExitsOne()
    {
        var notADirectory = Path.Combine(_dir, "a-file");
        await File.WriteAllTextAsync(notADirectory, "");
        var logFile = Path.Combine(notADirectory, "logs", "proxy.log");

        var (code, stderr) = await ProxyAsync($"log_file = \"{logFile}\"\n" + TcpListener("127.0.0.1:0"));

        Assert.Equal(ExitCodes.Error, code);
        AssertOneLine(stderr, $"Error opening log file \"{logFile}\": ");
    }

    [Fact]
    public async Task Proxy_VaultClientCertificateThatIsNotPem_SaysWhichFiles_ExitsOne()
    {
        var cert = Path.Combine(_dir, "client.pem");
        await File.WriteAllTextAsync(cert, "not a certificate");

        var (code, stderr) = await ProxyAsync($"vault {{\n  address = \"https://127.0.0.1:1\"\n  client_cert = \"{cert}\"\n  client_key = \"{cert}\"\n}}\n" + TcpListener("127.0.0.1:0"));

        Assert.Equal(ExitCodes.Error, code);
        AssertOneLine(stderr, $"Error creating the Vault client: cannot load vault.client_cert \"{cert}\" and vault.client_key \"{cert}\": ");
    }

    [Fact]
    public async Task Proxy_VaultCaCertThatDoesNotExist_SaysItIsTheVaultCaCert_ExitsOne()
    {
        var ca = Path.Combine(_dir, "missing-ca.pem");

        var (code, stderr) = await ProxyAsync($"vault {{\n  address = \"https://127.0.0.1:1\"\n  ca_cert = \"{ca}\"\n}}\n" + TcpListener("127.0.0.1:0"));

        Assert.Equal(ExitCodes.Error, code);
        AssertOneLine(stderr, $"Error creating the Vault client: cannot load vault.ca_cert \"{ca}\": ");
    }

    [Fact]
    public async Task Host_UnexpectedExceptionAtStart_IsOneLine_ExitsOne_AndTheDetailsGoToTheDebugLog()
    {
        var config = new GatehouseConfig
        {
            LogLevel = "debug",
            Listeners = [new ListenerConfig { Type = ListenerType.Tcp, Address = "127.0.0.1:0", TlsDisable = true }],
        };
        var console = new CapturingWriter();
        var stderr = new StringWriter();
        var options = new GatehouseHostOptions
        {
            LogConsole = console,
            ConfigureServices = services => services.AddSingleton<IHostedService, ThrowsAtStart>(),
        };

        var code = await DaemonRunner.RunAsync(config, options, TextWriter.Null, stderr, CancellationToken.None).WaitAsync(Hang);

        Assert.Equal(ExitCodes.Error, code);
        AssertOneLine(stderr.ToString(), "Error starting Gatehouse: InvalidOperationException: a bug at start-up");
        Assert.Contains("[DEBUG] proxy: start-up failed", console.ToString(), StringComparison.Ordinal);
        Assert.Contains(nameof(ThrowsAtStart), console.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Hosting failed to start", console.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_UnexpectedExceptionAtStart_AtInfo_LogsNothingMore()
    {
        var config = new GatehouseConfig
        {
            Listeners = [new ListenerConfig { Type = ListenerType.Tcp, Address = "127.0.0.1:0", TlsDisable = true }],
        };
        var console = new CapturingWriter();
        var stderr = new StringWriter();
        var options = new GatehouseHostOptions
        {
            LogConsole = console,
            ConfigureServices = services => services.AddSingleton<IHostedService, ThrowsAtStart>(),
        };

        var code = await DaemonRunner.RunAsync(config, options, TextWriter.Null, stderr, CancellationToken.None).WaitAsync(Hang);

        Assert.Equal(ExitCodes.Error, code);
        AssertOneLine(stderr.ToString(), "Error starting Gatehouse: InvalidOperationException: a bug at start-up");
        Assert.Equal("", console.ToString());
    }

    private sealed class ThrowsAtStart : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => throw new InvalidOperationException("a bug at start-up");

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
