using Gatehouse.Hosting;

namespace Gatehouse.Tests.Hosting;

/// <summary>
/// <c>gatehouse health</c>'s flags and its failures before any answer. Answers from a real Gatehouse (200, 503, over
/// TCP and a unix socket) are in Gatehouse.IntegrationTests' HealthEndToEndTests.
/// </summary>
public sealed class HealthCommandTests
{
    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string[] args, Func<string, string?>? environment = null)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await GatehouseCommand.RunAsync(["health", .. args], stdout, stderr, environment ?? (_ => null), CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Parse_Defaults_AreReadinessAtTheDefaultListener()
    {
        var parsed = HealthCommand.Parse([], _ => null, out var error);

        Assert.True(parsed is not null, error);
        Assert.Equal("https://127.0.0.1:8200", parsed.Address);
        Assert.Equal("ready", parsed.Probe);
        Assert.Equal("optional", parsed.Vault);
        Assert.Null(parsed.VaultGrace);
        Assert.Equal(TimeSpan.FromSeconds(5), parsed.Timeout);
    }

    [Fact]
    public void Parse_AddressComesFromTheFlag_ThenBaoAgentAddr_ThenVaultAgentAddr()
    {
        var env = new Dictionary<string, string> { ["VAULT_AGENT_ADDR"] = "http://127.0.0.1:1", ["BAO_AGENT_ADDR"] = "http://127.0.0.1:2" };

        Assert.Equal("http://127.0.0.1:2", HealthCommand.Parse([], k => env.GetValueOrDefault(k), out _)!.Address);
        Assert.Equal("http://127.0.0.1:1", HealthCommand.Parse([], k => k == "VAULT_AGENT_ADDR" ? env[k] : null, out _)!.Address);
        Assert.Equal("unix:///run/g.sock", HealthCommand.Parse(["-address", "unix:///run/g.sock"], k => env.GetValueOrDefault(k), out _)!.Address);
    }

    [Fact]
    public void Parse_ReadsEveryFlag_InBothForms()
    {
        var parsed = HealthCommand.Parse(
            ["--probe=live", "-vault", "required", "-vault-grace=2m", "-timeout=1s", "-ca-cert=ca.pem", "-client-cert=c.pem",
             "-client-key=k.pem", "-tls-server-name=gatehouse.local", "-tls-skip-verify"],
            _ => null,
            out var error);

        Assert.True(parsed is not null, error);
        Assert.Equal(
            new HealthCommand.Arguments(
                HealthCommand.DefaultAddress, "live", "required", "2m", TimeSpan.FromSeconds(1), "ca.pem", "c.pem", "k.pem", "gatehouse.local", true),
            parsed);
    }

    [Theory]
    [InlineData("-probe=startup", "invalid value \"startup\" for flag -probe")]
    [InlineData("-vault=yes", "invalid value \"yes\" for flag -vault")]
    [InlineData("-vault-grace=-1s", "invalid value \"-1s\" for flag -vault-grace")]
    [InlineData("-timeout=0s", "invalid value \"0s\" for flag -timeout")]
    [InlineData("-tls-skip-verify=maybe", "invalid boolean value \"maybe\" for -tls-skip-verify")]
    [InlineData("-port=8200", "flag provided but not defined: -port")]
    [InlineData("-client-cert=c.pem", "both -client-cert and -client-key must be provided")]
    [InlineData("ready", "unexpected argument \"ready\"")]
    [InlineData("-address", "flag needs an argument: -address")]
    public async Task UsageErrors_ExitOne_WithTheMessageAndTheHelp(string flag, string message)
    {
        var (code, stdout, stderr) = await RunAsync([flag]);

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.StartsWith(message + Environment.NewLine, stderr, StringComparison.Ordinal);
        Assert.Contains("Usage: gatehouse health", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_ExitsZero()
    {
        var (code, stdout, _) = await RunAsync(["-help"]);

        Assert.Equal(0, code);
        Assert.StartsWith("Usage: gatehouse health", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:8200")]
    [InlineData("ftp://127.0.0.1:8200")]
    [InlineData("unix://")]
    public async Task BadAddress_ExitsOne_NamingTheForms(string address)
    {
        var (code, _, stderr) = await RunAsync([$"-address={address}"]);

        Assert.Equal(1, code);
        Assert.StartsWith($"Error checking health: invalid address \"{address}\"", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NothingListening_OnTheSocket_ExitsOne_WithOneLine()
    {
        using var directory = new TempDirectory("gatehouse-health-");
        var socket = Path.Combine(directory, "absent.sock");

        var (code, stdout, stderr) = await RunAsync([$"-address=unix://{socket}"]);

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.StartsWith($"Error checking health at unix://{socket}: ", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task CaCertWithoutACertificate_ExitsOne_NamingTheFile()
    {
        using var directory = new TempDirectory("gatehouse-health-");
        var ca = Path.Combine(directory, "ca.pem");
        await File.WriteAllTextAsync(ca, "not a certificate\n");

        var (code, _, stderr) = await RunAsync(["-address=https://127.0.0.1:1", $"-ca-cert={ca}"]);

        Assert.Equal(1, code);
        Assert.Contains($"{ca}: no PEM certificate found", stderr, StringComparison.Ordinal);
    }
}
