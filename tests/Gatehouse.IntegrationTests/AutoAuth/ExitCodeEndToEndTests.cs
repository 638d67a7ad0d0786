using Gatehouse.DevVault;
using Gatehouse.Hosting;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>
/// <c>exit_after_auth</c> and <c>exit_on_err</c> as a user meets them: a config file, <c>gatehouse proxy</c>, and the
/// process exit code.
/// </summary>
public sealed class ExitCodeEndToEndTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Proxy_WithExitAfterAuth_ExitsZeroOnceTheSinkHasTheToken()
    {
        await using var vault = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var dir = new TempDirectory("exit-after-auth-");
        var scenario = await DevScenario.SetUpAsync(vault, dir, CancellationToken.None);
        var sink = Path.Combine(dir, "token");
        var config = WriteConfig(dir, vault.Address, scenario.RoleIdPath, scenario.SecretIdPath, sink, exitOnError: false, exitAfterAuth: true);

        var stderr = new StringWriter();
        var code = await GatehouseCommand.RunAsync(["proxy", $"-config={config}"], TextWriter.Null, stderr, _ => null, CancellationToken.None)
            .WaitAsync(Hang);

        Assert.True(code == 0, stderr.ToString());
        Assert.StartsWith("s.", await File.ReadAllTextAsync(sink), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_WithExitOnErr_ExitsOneOnTheFirstFailedLogin_WithAClearMessage()
    {
        await using var vault = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var dir = new TempDirectory("exit-on-err-");
        var scenario = await DevScenario.SetUpAsync(vault, dir, CancellationToken.None);
        await File.WriteAllTextAsync(scenario.SecretIdPath, "00000000-0000-0000-0000-000000000000");
        var config = WriteConfig(dir, vault.Address, scenario.RoleIdPath, scenario.SecretIdPath, Path.Combine(dir, "token"), exitOnError: true, exitAfterAuth: false);

        var stderr = new StringWriter();
        var code = await GatehouseCommand.RunAsync(["proxy", $"-config={config}"], TextWriter.Null, stderr, _ => null, CancellationToken.None)
            .WaitAsync(Hang);

        Assert.Equal(1, code);
        Assert.Contains("exit_on_err", stderr.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, vault.Faults.CountRequests("PUT", "/v1/auth/approle/login"));
        Assert.False(File.Exists(Path.Combine(dir, "token")));
    }

    private static string WriteConfig(string dir, Uri vault, string roleId, string secretId, string sink, bool exitOnError, bool exitAfterAuth)
    {
        var path = Path.Combine(dir, "proxy.hcl");
        File.WriteAllText(path, $$"""
            exit_after_auth = {{(exitAfterAuth ? "true" : "false")}}
            vault {
              address = "{{vault.ToString().TrimEnd('/')}}"
            }
            auto_auth {
              method "approle" {
                exit_on_err = {{(exitOnError ? "true" : "false")}}
                config = {
                  role_id_file_path   = "{{roleId}}"
                  secret_id_file_path = "{{secretId}}"
                  remove_secret_id_file_after_reading = false
                }
              }
              sink "file" {
                config = { path = "{{sink}}" }
              }
            }
            """);
        return path;
    }
}
