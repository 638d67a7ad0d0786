using System.Text.Json;
using System.Text.RegularExpressions;
using Gatehouse.DevVault;
using Gatehouse.IntegrationTests.Support;

namespace Gatehouse.IntegrationTests.Operations;

/// <summary>
/// A whole run of the real <c>gatehouse</c> executable (DevVault, approle, a file sink, a listener, exit_after_auth, at
/// trace) read line by line as an operator's log shipper would: every line in the chosen format, Vault's module names,
/// one line when shutdown starts and one when it ends, and the token nowhere.
/// </summary>
[Trait("Executable", "true")]
public sealed partial class LogFormatEndToEndTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(1);

    // go-hclog's logPlain: "2026-12-07T10:00:00.000Z [INFO]  module: message: k=v".
    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (\[TRACE\] |\[DEBUG\] |\[INFO\]  |\[WARN\]  |\[ERROR\] )(?<module>proxy(\.[a-z_]+)*): (?<message>.+)$")]
    private static partial Regex HclogLine();

    private static async Task<(int Code, string Stdout, string Stderr, string Token)> RunAsync(
        IReadOnlyList<string> flags, IReadOnlyDictionary<string, string> environment)
    {
        await using var vault = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var dir = new TempDirectory("gatehouse-logs-");
        var scenario = await DevScenario.SetUpAsync(vault, dir, CancellationToken.None);
        var sink = Path.Combine(dir, "token");
        var config = Path.Combine(dir, "proxy.hcl");
        await File.WriteAllTextAsync(config, $$"""
            log_level       = "trace"
            exit_after_auth = true
            vault {
              address = "{{vault.Address.ToString().TrimEnd('/')}}"
            }
            auto_auth {
              method "approle" {
                config = {
                  role_id_file_path   = "{{scenario.RoleIdPath}}"
                  secret_id_file_path = "{{scenario.SecretIdPath}}"
                  remove_secret_id_file_after_reading = false
                }
              }
              sink "file" {
                config = { path = "{{sink}}" }
              }
            }
            listener "tcp" {
              address     = "127.0.0.1:0"
              tls_disable = true
            }
            api_proxy {
              use_auto_auth_token = true
            }
            """);
        using var cancel = new CancellationTokenSource(Hang);

        var (code, stdout, stderr) = await GatehouseExecutable.RunAsync(["proxy", $"-config={config}", .. flags], environment, cancel.Token);

        string token = File.Exists(sink) ? await File.ReadAllTextAsync(sink) : "";
        return (code, stdout, stderr, token);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Json_FromVaultLogFormat_EveryLineOfTheRunIsAnHclogJsonObject()
    {
        var (code, stdout, stderr, token) = await RunAsync([], new Dictionary<string, string> { ["VAULT_LOG_FORMAT"] = "json" });

        Assert.True(code == 0, stderr);
        Assert.StartsWith("s.", token, StringComparison.Ordinal);
        var entries = new List<(string Module, string Message, JsonElement Line)>();
        foreach (var line in Lines(stdout).Concat(Lines(stderr)))
        {
            Assert.DoesNotContain(token, line, StringComparison.Ordinal);
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement.Clone();
            Assert.Equal(["@level", "@message", "@module", "@timestamp"], root.EnumerateObject().Select(p => p.Name).Where(n => n.StartsWith('@')));
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", root.GetProperty("@timestamp").GetString());
            Assert.Contains(root.GetProperty("@level").GetString(), new[] { "trace", "debug", "info", "warn", "error" });
            string module = root.GetProperty("@module").GetString()!;
            Assert.Matches(@"^proxy(\.[a-z_]+)*$", module);
            entries.Add((module, root.GetProperty("@message").GetString()!, root));
        }

        // The banner, on stdout, is two JSON lines under the root module.
        var banner = Lines(stdout);
        Assert.Equal(2, banner.Length);
        Assert.Contains(entries, e => e.Module == "proxy" && e.Message == "Gatehouse Proxy configuration" && e.Line.GetProperty("log_level").GetString() == "trace");
        Assert.Contains(entries, e => e.Module == "proxy.auth.handler");
        Assert.Contains(entries, e => e.Module == "proxy.sink.server");
        Assert.Contains(entries, e => e.Module == "proxy.sink.file");
        Assert.Contains(entries, e => e.Module == "proxy" && e.Message == "sinks finished, exiting");

        // One line when shutdown starts, one when it ends (with its duration as Go writes it), in that order, after the
        // exit_after_auth line.
        int exiting = entries.FindIndex(e => e.Message == "sinks finished, exiting");
        int triggered = entries.FindIndex(e => e.Message == "shutdown triggered");
        int complete = entries.FindIndex(e => e.Message == "shutdown complete");
        Assert.Single(entries, e => e.Message == "shutdown triggered");
        Assert.Single(entries, e => e.Message == "shutdown complete");
        Assert.True(exiting < triggered && triggered < complete, $"{exiting} < {triggered} < {complete}");
        Assert.Equal("proxy", entries[complete].Module);
        Assert.Matches(@"^(\d+(\.\d+)?(ns|µs|ms|s|m|h))+$", entries[complete].Line.GetProperty("elapsed").GetString());
    }

    [Fact]
    public async Task Standard_TheFlagWinsOverVaultLogFormat_AndEveryLogLineIsAnHclogLine()
    {
        var (code, stdout, stderr, token) = await RunAsync(["-log-format=standard"], new Dictionary<string, string> { ["VAULT_LOG_FORMAT"] = "json" });

        Assert.True(code == 0, stderr);
        Assert.StartsWith("s.", token, StringComparison.Ordinal);
        Assert.DoesNotContain(token, stdout + stderr, StringComparison.Ordinal);

        // The banner is Vault's plain text block, as Vault prints it in the standard format.
        Assert.StartsWith("==> Gatehouse Proxy configuration:\n", stdout, StringComparison.Ordinal);

        var entries = new List<(string Module, string Message)>();
        foreach (var line in Lines(stderr))
        {
            var match = HclogLine().Match(line);
            Assert.True(match.Success, $"not an hclog line: {line}");
            entries.Add((match.Groups["module"].Value, match.Groups["message"].Value));
        }

        Assert.Contains(entries, e => e.Module == "proxy.auth.handler");
        Assert.Contains(entries, e => e.Module == "proxy.sink.server");
        Assert.Contains(entries, e => e == ("proxy", "sinks finished, exiting"));
        int triggered = entries.FindIndex(e => e == ("proxy", "shutdown triggered"));
        int complete = entries.FindIndex(e => e.Module == "proxy" && e.Message.StartsWith("shutdown complete", StringComparison.Ordinal));
        Assert.Single(entries, e => e == ("proxy", "shutdown triggered"));
        Assert.True(triggered >= 0 && triggered < complete, $"{triggered} < {complete}");
        Assert.Matches(@"^shutdown complete: elapsed=(\d+(\.\d+)?(ns|ms|s|m|h))+$", entries[complete].Message);
        Assert.DoesNotContain(entries, e => e.Message.Contains("Gatehouse.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Json_AStartUpFailure_IsOneHclogJsonLine()
    {
        using var dir = new TempDirectory("gatehouse-logs-");
        var config = Path.Combine(dir, "proxy.hcl");
        await File.WriteAllTextAsync(config, "listener \"tcp\" {\n  address = \"192.0.2.1:8200\"\n  tls_disable = true\n}\napi_proxy {}\n");
        using var cancel = new CancellationTokenSource(Hang);

        var (code, stdout, stderr) = await GatehouseExecutable.RunAsync(
            ["proxy", $"-config={config}"], new Dictionary<string, string> { ["VAULT_LOG_FORMAT"] = "json" }, cancel.Token);

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        using var doc = JsonDocument.Parse(Assert.Single(Lines(stderr)));
        Assert.Equal("error", doc.RootElement.GetProperty("@level").GetString());
        Assert.Equal("proxy", doc.RootElement.GetProperty("@module").GetString());
        Assert.StartsWith("Error starting listener: listener 0 (tcp 192.0.2.1:8200): bind: ", doc.RootElement.GetProperty("@message").GetString(), StringComparison.Ordinal);
    }
}
