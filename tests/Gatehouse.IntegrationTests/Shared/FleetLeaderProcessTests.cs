using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Gatehouse.DevVault;
using Gatehouse.Hosting;
using Gatehouse.IntegrationTests.Cache;
using Gatehouse.IntegrationTests.Support;
using Gatehouse.Testing;

namespace Gatehouse.IntegrationTests.Shared;

/// <summary>
/// Issue 17's "the leader is killed", for real: the fleet's leader is the real <c>gatehouse proxy</c> executable in its
/// own process, killed with SIGKILL (no graceful stop, no release of its lease); two in-process replicas follow it.
/// The lease runs out on Redis's clock (10 s, the production value: the process runs with its defaults), and one
/// survivor takes over and renews the token the fleet already holds. DevVault's log: one login for the whole run.
/// </summary>
public sealed class FleetLeaderProcessTests : IAsyncLifetime
{
    private const string Login = "/v1/auth/approle/login";
    private const string RenewSelf = "/v1/auth/token/renew-self";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(45);

    private readonly TempDirectory _dir = new("gatehouse-fleet-process-");
    private readonly RedisServer _redis = new();
    private readonly CapturingWriter _leaderOutput = new();
    private readonly List<GatehouseHost> _followers = [];
    private DevVaultServer _vault = null!;
    private Process? _leader;

    public async Task InitializeAsync()
    {
        _vault = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var root = new HttpClient { BaseAddress = _vault.Address };
        root.DefaultRequestHeaders.Add("X-Vault-Token", _vault.RootToken);
        (await root.PostAsJsonAsync("/v1/sys/auth/approle", new { type = "approle" })).EnsureSuccessStatusCode();
        (await root.PostAsJsonAsync("/v1/auth/approle/role/app", new { token_ttl = "1h", token_policies = new[] { "default" } })).EnsureSuccessStatusCode();
        using var role = await root.GetAsync("/v1/auth/approle/role/app/role-id");
        using var secret = await root.PostAsync("/v1/auth/approle/role/app/secret-id", null);
        await File.WriteAllTextAsync(_dir.Combine("role_id"), JsonNode.Parse(await role.Content.ReadAsStringAsync())!["data"]!["role_id"]!.ToString());
        await File.WriteAllTextAsync(_dir.Combine("secret_id"), JsonNode.Parse(await secret.Content.ReadAsStringAsync())!["data"]!["secret_id"]!.ToString());
        await File.WriteAllTextAsync(_dir.Combine("fleet.key"), Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
    }

    public async Task DisposeAsync()
    {
        if (_leader is not null)
        {
            if (!_leader.HasExited)
            {
                _leader.Kill(entireProcessTree: true);
            }

            await _leader.WaitForExitAsync();
            _leader.Dispose();
        }

        foreach (var follower in _followers)
        {
            await follower.DisposeAsync();
        }

        await _vault.DisposeAsync();
        _redis.Dispose();
        _dir.Dispose();
    }

    private long Logins => _vault.Faults.CountRequests("PUT", Login);

    [Fact]
    public async Task LeaderProcessKilled_ASurvivorTakesOver_AndRenewsTheSameTokenWithoutALogin()
    {
        StartLeaderProcess();
        await WaitForLeaderAsync("this replica leads");
        await WaitForLeaderAsync("sink: token (accessor ");
        var token = await File.ReadAllTextAsync(_dir.Combine("leader.token"));

        GatehouseHost[] followers = [await StartFollowerAsync(), await StartFollowerAsync()];
        await FleetWaits.UntilAsync(followers, () => followers.All(f => f.TokenStore.Current?.Token == token && Role(f) == FleetRole.Follower), "both to follow with the leader's token", Bound);
        var renewals = _vault.Faults.CountRequests("PUT", RenewSelf);

        // SIGKILL: the process neither releases its lease nor says goodbye; the lease runs out on Redis's clock.
        _leader!.Kill();
        await _leader.WaitForExitAsync();
        await FleetWaits.UntilAsync(followers, () => followers.Count(f => Role(f) == FleetRole.Leader) == 1, "a survivor to take the lease", Bound);
        var successor = followers.Single(f => Role(f) == FleetRole.Leader);
        await _vault.Faults.WaitForRequestsAsync("PUT", RenewSelf, renewals + 1).WaitAsync(Bound);

        Assert.Equal(1, Logins);
        Assert.All(followers, f => Assert.Equal(token, f.TokenStore.Current!.Token));
        Assert.Equal(FleetRole.Follower, Role(followers.Single(f => f != successor)));
    }

    private static FleetRole Role(GatehouseHost host) => FleetWaits.Fleet(host).Role;

    private void StartLeaderProcess()
    {
        var config = _dir.Combine("leader.hcl");
        File.WriteAllText(config, $$"""
            vault {
              address = "{{_vault.Address.ToString().TrimEnd('/')}}"
            }
            auto_auth {
              method "approle" {
                config = {
                  role_id_file_path                   = "{{_dir.Combine("role_id")}}"
                  secret_id_file_path                 = "{{_dir.Combine("secret_id")}}"
                  remove_secret_id_file_after_reading = false
                }
              }
              sink "file" {
                config = {
                  path = "{{_dir.Combine("leader.token")}}"
                }
              }
            }
            cache {
              shared "redis" {
                address  = "{{_redis.Address}}"
                key_file = "{{_dir.Combine("fleet.key")}}"
              }
            }
            listener "tcp" {
              address     = "127.0.0.1:0"
              tls_disable = true
            }
            """);
        var start = new ProcessStartInfo(GatehouseExecutable.Path, ["proxy", $"-config={config}", "-log-level=debug"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("VAULT_", StringComparison.Ordinal) || k.StartsWith("BAO_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        _leader = new Process { StartInfo = start };
        _leader.OutputDataReceived += (_, e) => _leaderOutput.WriteLine(e.Data);
        _leader.ErrorDataReceived += (_, e) => _leaderOutput.WriteLine(e.Data);
        _leader.Start();
        _leader.BeginOutputReadLine();
        _leader.BeginErrorReadLine();
    }

    private async Task WaitForLeaderAsync(string fragment)
    {
        try
        {
            await _leaderOutput.WaitForAsync(fragment, Bound);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"the leader process never logged \"{fragment}\"; output:\n{_leaderOutput}", e);
        }
    }

    private async Task<GatehouseHost> StartFollowerAsync()
    {
        var method = FleetHarness.Approle(_dir.Combine("role_id"), _dir.Combine("secret_id"));
        var config = new GatehouseConfig
        {
            Vault = new VaultConfig { Address = _vault.Address.ToString().TrimEnd('/'), NumRetries = -1 },
            AutoAuth = new AutoAuthConfig { Method = method },
            Cache = new CacheConfig { Shared = new SharedConfig { Type = "redis", Address = _redis.Address, KeyFile = _dir.Combine("fleet.key") } },
            Listeners = [new ListenerConfig { Type = ListenerType.Tcp, Address = "127.0.0.1:0", TlsDisable = true }],
        };
        var host = await GatehouseHost.StartAsync(config, new GatehouseHostOptions { LogConsole = new CapturingWriter() });
        _followers.Add(host);
        return host;
    }
}
