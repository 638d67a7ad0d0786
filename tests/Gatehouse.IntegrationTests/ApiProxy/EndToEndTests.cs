using System.Net;
using Gatehouse.Configuration;
using Gatehouse.DevVault;
using Gatehouse.Hosting;

namespace Gatehouse.IntegrationTests.ApiProxy;

/// <summary>The whole daemon from an HCL file: auto-auth logs in to DevVault, the proxy uses its token.</summary>
public sealed class EndToEndTests
{
    [Fact]
    public async Task HclConfig_TokenFileAutoAuth_ProxiesWithTheAutoAuthToken_AndRedactsLookupSelf()
    {
        await using var vault = await DevVaultServer.StartAsync(new DevVaultOptions { RootTokenId = "hvs.e2e-root" });
        using var directory = new TempDirectory("gatehouse-e2e-");
        var tokenFile = Path.Combine(directory, "token");
        await File.WriteAllTextAsync(tokenFile, vault.RootToken);
        var configFile = Path.Combine(directory, "proxy.hcl");
        await File.WriteAllTextAsync(configFile, $$"""
            vault {
              address = "{{vault.Address.ToString().TrimEnd('/')}}"
            }
            auto_auth {
              method "token_file" {
                config = {
                  token_file_path = "{{tokenFile}}"
                }
              }
            }
            api_proxy {
              use_auto_auth_token = true
            }
            listener "tcp" {
              address     = "127.0.0.1:0"
              tls_disable = true
            }
            """);
        var loaded = ConfigLoader.Load([configFile], _ => null);
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Diagnostics));

        await using var host = await GatehouseHost.StartAsync(loaded.Config!);
        await host.TokenStore.FirstToken.WaitAsync(TimeSpan.FromSeconds(30));
        using var client = new HttpClient { BaseAddress = host.Addresses[0].Address };

        using var mounts = await client.GetAsync("/v1/sys/mounts");
        using var lookup = await client.GetAsync("/v1/auth/token/lookup-self");

        Assert.Equal(HttpStatusCode.OK, mounts.StatusCode);
        Assert.Equal(HttpStatusCode.OK, lookup.StatusCode);
        Assert.DoesNotContain(vault.RootToken, await lookup.Content.ReadAsStringAsync());
    }
}
