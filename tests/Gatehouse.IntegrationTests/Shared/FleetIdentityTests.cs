using System.Collections.Immutable;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using Gatehouse.DevVault;
using Gatehouse.Hcl;
using Gatehouse.Hosting;
using Gatehouse.Sinks;
using Gatehouse.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Gatehouse.IntegrationTests.Shared;

/// <summary>
/// One auto-auth identity for a fleet (<c>cache { shared "redis" }</c>), end to end: a real redis-server, DevVault and
/// three real Gatehouse hosts with approle auto-auth, a file sink each and a listener each. Logins are counted in
/// DevVault's request log. The hosts run on the system clock (Redis expires leases on its own clock); every wait is
/// for an observable event (a published token, a role change, a sink write), bounded.
/// </summary>
public sealed class FleetIdentityTests : IAsyncLifetime
{
    private const string Login = "/v1/auth/approle/login";
    private const string RenewSelf = "/v1/auth/token/renew-self";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(40);

    private readonly TempDirectory _dir = new("gatehouse-fleet-");
    private readonly RedisServer _redis = new();
    private readonly SemaphoreSlim _changed = new(0);
    private readonly List<Replica> _replicas = [];
    private DevVaultServer _vault = null!;
    private HttpClient _root = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _vault = await DevVaultServer.StartAsync(new DevVaultOptions());
        _root = new HttpClient { BaseAddress = _vault.Address };
        _root.DefaultRequestHeaders.Add("X-Vault-Token", _vault.RootToken);
        await RootAsync(HttpMethod.Post, "sys/auth/approle", new { type = "approle" });
        await RootAsync(HttpMethod.Post, "auth/approle/role/app", new { token_ttl = "1h", token_policies = new[] { "default" } });
        var roleId = (await RootAsync(HttpMethod.Get, "auth/approle/role/app/role-id"))!["data"]!["role_id"]!.ToString();
        var secretId = (await RootAsync(HttpMethod.Post, "auth/approle/role/app/secret-id"))!["data"]!["secret_id"]!.ToString();
        await File.WriteAllTextAsync(_dir.Combine("role_id"), roleId + "\n");
        await File.WriteAllTextAsync(_dir.Combine("secret_id"), secretId);
        _key = KeyFile("fleet.key");
    }

    public async Task DisposeAsync()
    {
        foreach (var replica in _replicas)
            await replica.DisposeAsync();
        await _vault.DisposeAsync();
        _root.Dispose();
        _redis.Dispose();
        _dir.Dispose();
    }

    private string KeyFile(string name)
    {
        var path = _dir.Combine(name);
        File.WriteAllText(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        return path;
    }

    private long Logins => _vault.Faults.CountRequests("PUT", Login);

    private async Task<JsonNode?> RootAsync(HttpMethod method, string path, object? body = null, string? token = null)
    {
        using var request = new HttpRequestMessage(method, "/v1/" + path);
        if (body is not null)
            request.Content = JsonContent.Create(body);
        if (token is not null)
        {
            request.Headers.Remove("X-Vault-Token");
            request.Headers.Add("X-Vault-Token", token);
        }

        using var response = await _root.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text.Length == 0 ? null : JsonNode.Parse(text);
    }

    private async Task<Replica> StartReplicaAsync(string name, string? keyFile = null, bool releaseOnStop = true)
    {
        var method = new AuthMethodConfig
        {
            Type = "approle",
            Config = new ConfigMap(
                new Dictionary<string, HclNode>
                {
                    ["role_id_file_path"] = new HclString(_dir.Combine("role_id"), default),
                    ["secret_id_file_path"] = new HclString(_dir.Combine("secret_id"), default),
                    ["remove_secret_id_file_after_reading"] = new HclBool(false, default),
                }.ToImmutableDictionary(),
                default),
        };
        var sink = new SinkConfig
        {
            Type = "file",
            Config = new ConfigMap(ImmutableDictionary<string, HclNode>.Empty.Add("path", new HclString(_dir.Combine($"{name}.token"), default)), default),
        };
        var config = new GatehouseConfig
        {
            Vault = new VaultConfig { Address = _vault.Address.ToString().TrimEnd('/'), NumRetries = -1 },
            AutoAuth = new AutoAuthConfig { Method = method, Sinks = [sink] },
            ApiProxy = new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.WhenMissing },
            Cache = new CacheConfig { Shared = new SharedConfig { Type = "redis", Address = _redis.Address, KeyFile = keyFile ?? _key } },
            Listeners = [new ListenerConfig { Type = ListenerType.Tcp, Address = "127.0.0.1:0", TlsDisable = true }],
        };
        var logs = new FakeLogCollector();
        var replica = new Replica(name, logs, _dir.Combine($"{name}.token"));
        replica.Host = await GatehouseHost.StartAsync(config, new GatehouseHostOptions
        {
            LoggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(new FakeLoggerProvider(logs))),
            ConfigureServices = services => services.AddSingleton(new FleetOptions
            {
                LeaseTtl = TimeSpan.FromSeconds(2),
                ReleaseOnStop = releaseOnStop,
                ReplicaId = name,
            }),
        });
        replica.Host.TokenStore.Published += _ => _changed.Release();
        replica.Fleet.RoleChanged += _ => _changed.Release();
        foreach (var writer in replica.Host.Services.GetRequiredService<SinkServer>().Writers)
            writer.Written += (_, _) => _changed.Release();
        replica.Client = new HttpClient { BaseAddress = replica.Host.Addresses[0].Address };
        _replicas.Add(replica);
        return replica;
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds, re-checking it on each token, role or sink event.</summary>
    private async Task Until(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(Bound);
        while (!condition())
        {
            try
            {
                await _changed.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"timed out waiting for {what}; logins {Logins}; " +
                    string.Join("; ", _replicas.Select(r => $"{r.Name}: {r.Fleet.Role}, token {(r.Host.TokenStore.Current is null ? "none" : "set")}")));
            }
        }
    }

    private static bool SinkHolds(Replica replica, string token) =>
        File.Exists(replica.SinkPath) && File.ReadAllText(replica.SinkPath) == token;

    private async Task<(Replica Leader, Replica[] Followers)> StartFleetAsync(bool releaseOnStop = true)
    {
        Replica[] all = [await StartReplicaAsync("a", releaseOnStop: releaseOnStop), await StartReplicaAsync("b", releaseOnStop: releaseOnStop), await StartReplicaAsync("c", releaseOnStop: releaseOnStop)];
        await Until(() => all.All(r => r.Host.TokenStore.Current is not null) && all.Count(r => r.Fleet.Role == FleetRole.Leader) == 1, "one leader and a token everywhere");
        var token = all.Single(r => r.Fleet.Role == FleetRole.Leader).Host.TokenStore.Current!.Token;
        await Until(() => all.All(r => SinkHolds(r, token)), "the fleet token in every sink");
        return (all.Single(r => r.Fleet.Role == FleetRole.Leader), [.. all.Where(r => r.Fleet.Role != FleetRole.Leader)]);
    }

    [Fact]
    public async Task ThreeReplicas_OneLogin_TheSameTokenInEverySink()
    {
        var (leader, followers) = await StartFleetAsync();

        var token = leader.Host.TokenStore.Current!.Token;
        Assert.Equal(1, Logins);
        Assert.All(followers, f => Assert.Equal(FleetRole.Follower, f.Fleet.Role));
        Assert.All(followers, f => Assert.Equal(token, f.Host.TokenStore.Current!.Token));
        Assert.All(_replicas, r => Assert.Equal(token, File.ReadAllText(r.SinkPath)));

        // Each serves with it: a proxied lookup-self through a follower is answered (the token guard masks the token).
        using var lookup = await followers[0].Client.GetAsync("/v1/auth/token/lookup-self");
        Assert.Equal(200, (int)lookup.StatusCode);
        Assert.DoesNotContain(_replicas.SelectMany(r => r.Logs.GetSnapshot()), l => l.Message.Contains(token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task LeaderKilled_AFollowerTakesOver_AndRenewsTheTokenWithoutANewLogin()
    {
        var (leader, followers) = await StartFleetAsync(releaseOnStop: false);
        var token = leader.Host.TokenStore.Current!.Token;
        var renewals = _vault.Faults.CountRequests("PUT", RenewSelf);

        // Stopped without releasing its lease, as a killed process: the lease runs out on Redis's clock.
        await leader.DisposeAsync();
        _replicas.Remove(leader);
        await Until(() => followers.Count(f => f.Fleet.Role == FleetRole.Leader) == 1, "a follower to take the lease");
        var successor = followers.Single(f => f.Fleet.Role == FleetRole.Leader);
        await Until(() => successor.Logs.GetSnapshot().Any(l => l.Id.Id == LogEvents.FleetTookOver), "the successor to renew the token");

        Assert.Equal(1, Logins);
        Assert.Equal(renewals + 1, _vault.Faults.CountRequests("PUT", RenewSelf));
        Assert.All(followers, f => Assert.Equal(token, f.Host.TokenStore.Current!.Token));
    }

    [Fact]
    public async Task TokenRevokedInVault_OneReloginForTheWholeFleet()
    {
        var (leader, followers) = await StartFleetAsync();
        var old = leader.Host.TokenStore.Current!.Token;

        await RootAsync(HttpMethod.Post, "auth/token/revoke-self", token: old);
        // A client of a follower meets Vault's 403: the follower confirms it and tells the leader, which logs in once.
        using var refused = await followers[0].Client.GetAsync("/v1/auth/token/lookup-self");
        Assert.Equal(403, (int)refused.StatusCode);
        await Until(() => _replicas.All(r => r.Host.TokenStore.Current?.Token is { } t && t != old), "a new token everywhere");
        var fresh = leader.Host.TokenStore.Current!.Token;
        await Until(() => _replicas.All(r => SinkHolds(r, fresh)), "the new token in every sink");

        Assert.Equal(2, Logins);
        Assert.All(_replicas, r => Assert.Equal(fresh, r.Host.TokenStore.Current!.Token));
        using var served = await followers[1].Client.GetAsync("/v1/auth/token/lookup-self");
        Assert.Equal(200, (int)served.StatusCode);
    }

    [Fact]
    public async Task RedisKilledAndRestarted_EveryRequestIsServed_AndTheFleetRejoinsWithoutLogins()
    {
        var (leader, followers) = await StartFleetAsync();
        var token = leader.Host.TokenStore.Current!.Token;

        _redis.Kill();
        // The leader finds Redis gone at its next lease renewal, the followers at their next read.
        await Until(() => _replicas.All(r => r.Fleet.Role == FleetRole.Local), "every replica to work on its own");
        foreach (var replica in _replicas)
        {
            using var answer = await replica.Client.GetAsync("/v1/auth/token/lookup-self");
            Assert.Equal(200, (int)answer.StatusCode);
        }

        _redis.Start();
        await Until(() => _replicas.Count(r => r.Fleet.Role == FleetRole.Leader) == 1 && _replicas.All(r => r.Fleet.Role is FleetRole.Leader or FleetRole.Follower), "the fleet to re-form");
        foreach (var replica in _replicas)
        {
            using var answer = await replica.Client.GetAsync("/v1/auth/token/lookup-self");
            Assert.Equal(200, (int)answer.StatusCode);
        }

        Assert.Equal(1, Logins);
        Assert.All(_replicas, r => Assert.Equal(token, r.Host.TokenStore.Current!.Token));
        Assert.All(_replicas, r => Assert.Single(r.Logs.GetSnapshot(), l => l.Id.Id == LogEvents.SharedStoreDown));
    }

    [Fact]
    public async Task WrongKeyOnOneReplica_SaysSoWithTheKeyIds_AndLogsInAlone()
    {
        var (leader, _) = await StartFleetAsync();
        var fleetToken = leader.Host.TokenStore.Current!.Token;

        var stranger = await StartReplicaAsync("d", keyFile: KeyFile("other.key"));
        await Until(() => stranger.Host.TokenStore.Current is not null, "the stranger's own token");

        var line = Assert.Single(stranger.Logs.GetSnapshot(), l => l.Id.Id == LogEvents.FleetOtherKeyIds);
        Assert.Contains(leader.Host.Services.GetRequiredService<Gatehouse.Shared.SharedKeys>().KeyIdText, line.Message, StringComparison.Ordinal);
        Assert.Contains(stranger.Host.Services.GetRequiredService<Gatehouse.Shared.SharedKeys>().KeyIdText, line.Message, StringComparison.Ordinal);
        Assert.NotEqual(fleetToken, stranger.Host.TokenStore.Current!.Token);
        Assert.Equal(2, Logins);
        Assert.Equal(fleetToken, leader.Host.TokenStore.Current!.Token);
    }

    private sealed class Replica(string name, FakeLogCollector logs, string sinkPath) : IAsyncDisposable
    {
        private bool _disposed;

        public string Name => name;

        public FakeLogCollector Logs => logs;

        public string SinkPath => sinkPath;

        public GatehouseHost Host { get; set; } = null!;

        public HttpClient Client { get; set; } = null!;

        public FleetAuthService Fleet => Host.Services.GetRequiredService<FleetAuthService>();

        public async ValueTask DisposeAsync()
        {
            if (_disposed)
                return;
            _disposed = true;
            Client?.Dispose();
            await Host.DisposeAsync();
        }
    }
}
