using System.Collections.Immutable;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.Cache;
using Gatehouse.Cache.Static;
using Gatehouse.Configuration;
using Gatehouse.DevVault;
using Gatehouse.Hcl;
using Gatehouse.Hosting;
using Gatehouse.IntegrationTests.Support;
using Gatehouse.Shared;
using Gatehouse.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.IntegrationTests.Cache;

/// <summary>
/// A fleet: DevVault (leased KV, approle), a real redis-server, and three real Gatehouse hosts with
/// <c>cache { shared "redis" }</c> on one fake clock and one key (unless a replica is given another).
/// </summary>
internal sealed class FleetHarness : IAsyncDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private readonly TempDirectory _directory = new("gatehouse-fleet-");
    private bool _autoAuth;
    private bool _staticSecrets;

    private FleetHarness(DevVaultServer vault, RedisServer redis, FakeTimeProvider time, string roleId, string secretId)
    {
        Vault = vault;
        Redis = redis;
        Time = time;
        RoleId = roleId;
        SecretId = secretId;
    }

    public DevVaultServer Vault { get; }

    public RedisServer Redis { get; }

    public FakeTimeProvider Time { get; }

    public string RoleId { get; }

    public string SecretId { get; }

    public List<Replica> Replicas { get; } = [];

    public Replica this[int i] => Replicas[i];

    /// <param name="autoAuth">
    /// Approle auto-auth on every replica (the fleet's one identity, part A) and the proxy using its token; the hosts then
    /// run on the system clock, as the fleet's leadership does (Redis expires its lease on its own clock).
    /// </param>
    /// <param name="staticSecrets">
    /// <c>cache_static_secrets</c> on every replica, a KV v2 mount at <c>kv/</c> holding <c>kv/data/app</c>, and the
    /// policy <c>reader</c> that may read it (<see cref="TokenAsync"/>).
    /// </param>
    public static async Task<FleetHarness> StartAsync(int replicas = 3, int? otherKeyReplica = null, bool autoAuth = false, bool staticSecrets = false)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

        var vault = await DevVaultServer.StartAsync(new DevVaultOptions { TimeProvider = time, LeasedKv = true });
        using var root = new HttpClient { BaseAddress = vault.Address };
        root.DefaultRequestHeaders.Add("X-Vault-Token", vault.RootToken);
        await Ok(root.PostAsJsonAsync("/v1/sys/auth/approle", new { type = "approle" }));
        await Ok(root.PutAsJsonAsync("/v1/sys/policies/acl/all", new { policy = "path \"*\" { capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\", \"sudo\"] }" }));
        await Ok(root.PostAsJsonAsync("/v1/auth/approle/role/app", new { token_ttl = "1h", token_max_ttl = "24h", token_policies = new[] { "all" } }));
        var roleId = (await Json(root.GetAsync("/v1/auth/approle/role/app/role-id")))["data"]!["role_id"]!.ToString();
        var secretId = (await Json(root.PostAsync("/v1/auth/approle/role/app/secret-id", null)))["data"]!["secret_id"]!.ToString();
        await Ok(root.PutAsJsonAsync("/v1/secret/db", new { password = "s3cret", ttl = "30m" }));
        if (staticSecrets)
        {
            await Ok(root.PostAsJsonAsync("/v1/sys/mounts/kv", new { type = "kv", options = new { version = "2" } }));
            await Ok(root.PostAsJsonAsync("/v1/kv/data/app", new { data = new { password = "pw-1" } }));
            await Ok(root.PutAsJsonAsync("/v1/sys/policies/acl/reader", new { policy = "path \"kv/data/app\" { capabilities = [\"read\", \"create\", \"update\"] }\npath \"kv/metadata/app\" { capabilities = [\"read\"] }" }));
        }

        var fleet = new FleetHarness(vault, new RedisServer(), time, roleId, secretId) { _autoAuth = autoAuth, _staticSecrets = staticSecrets };
        var key = fleet.WriteKey("fleet.key");
        var other = fleet.WriteKey("other.key");
        File.WriteAllText(Path.Combine(fleet._directory.Path, "role_id"), roleId);
        File.WriteAllText(Path.Combine(fleet._directory.Path, "secret_id"), secretId);
        for (var i = 0; i < replicas; i++)
        {
            await fleet.AddReplicaAsync(i == otherKeyReplica ? other : key);
        }

        return fleet;
    }

    private string WriteKey(string name)
    {
        var path = Path.Combine(_directory.Path, name);
        File.WriteAllText(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        return path;
    }

    private async Task AddReplicaAsync(string keyFile)
    {
        var config = new GatehouseConfig
        {
            Vault = new VaultConfig { Address = Vault.Address.ToString().TrimEnd('/'), NumRetries = -1 },
            ApiProxy = _autoAuth ? new ApiProxyConfig { UseAutoAuthToken = AutoAuthTokenMode.WhenMissing } : new ApiProxyConfig(),
            AutoAuth = _autoAuth ? new AutoAuthConfig { Method = Approle() } : null,
            Cache = new CacheConfig
            {
                Shared = new SharedConfig { Type = "redis", Address = Redis.Address, KeyFile = keyFile, OperationTimeout = TimeSpan.FromSeconds(5) },
                CacheStaticSecrets = _staticSecrets,
            },
            Listeners = [new ListenerConfig { Type = ListenerType.Tcp, Address = "127.0.0.1:0", TlsDisable = true }],
        };
        var log = new CapturingWriter();
        var host = await GatehouseHost.StartAsync(config, new GatehouseHostOptions { TimeProvider = _autoAuth ? TimeProvider.System : Time, LogConsole = log });
        var replica = new Replica(host, log);
        Replicas.Add(replica);
        await replica.Shared.Subscribed.WaitAsync(Bound);
    }

    /// <summary>Completes when the replica's link to Redis is (or becomes) up or down.</summary>
    public static Task StateReached(Replica replica, bool up)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        replica.Store.StateChanged += state =>
        {
            if (state == up)
            {
                reached.TrySetResult();
            }
        };
        if (replica.Store.IsUp == up)
        {
            reached.TrySetResult();
        }

        return reached.Task.WaitAsync(Bound);
    }

    /// <summary>Completes when the replica has rejoined the fleet after Redis came back.</summary>
    public static Task Rejoined(Replica replica)
    {
        var rejoined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        replica.Shared.Rejoined += () => rejoined.TrySetResult();
        return rejoined.Task.WaitAsync(Bound);
    }

    /// <summary>A token made by DevVault's root token with the given policies (no Gatehouse involved).</summary>
    public async Task<string> TokenAsync(params string[] policies)
    {
        using var root = new HttpClient { BaseAddress = Vault.Address };
        root.DefaultRequestHeaders.Add("X-Vault-Token", Vault.RootToken);
        return (await Json(root.PostAsJsonAsync("/v1/auth/token/create", new { policies, ttl = "1h" })))["auth"]!["client_token"]!.ToString();
    }

    /// <summary>Sends a request straight to DevVault with its root token.</summary>
    public async Task RootAsync(HttpMethod method, string path, object body)
    {
        using var root = new HttpClient { BaseAddress = Vault.Address };
        root.DefaultRequestHeaders.Add("X-Vault-Token", Vault.RootToken);
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        await Ok(root.SendAsync(request));
    }

    private AuthMethodConfig Approle() => Approle(Path.Combine(_directory.Path, "role_id"), Path.Combine(_directory.Path, "secret_id"));

    /// <summary>Approle auto-auth reading the role and secret ids from these files (kept after reading).</summary>
    public static AuthMethodConfig Approle(string roleIdPath, string secretIdPath) => new()

    {
        Type = "approle",
        Config = new ConfigMap(
            new Dictionary<string, HclNode>
            {
                ["role_id_file_path"] = new HclString(roleIdPath, default),
                ["secret_id_file_path"] = new HclString(secretIdPath, default),
                ["remove_secret_id_file_after_reading"] = new HclBool(false, default),
            }.ToImmutableDictionary(),
            default),
    };

    public Task<HttpResponseMessage> LoginAsync(int replica) =>
        this[replica].Client.PutAsJsonAsync("/v1/auth/approle/login", new { role_id = RoleId, secret_id = SecretId });

    /// <summary>Advances the shared clock and waits until every replica's renewals made due have finished.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        Time.Advance(by);
        foreach (var replica in Replicas)
        {
            await replica.Cache.Renewer.WhenIdleAsync();
        }
    }

    public static string? XCache(HttpResponseMessage response) => response.Headers.TryGetValues("X-Cache", out var values) ? values.Single() : null;

    public static async Task<JsonNode> ReadJson(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    private static async Task Ok(Task<HttpResponseMessage> send)
    {
        using var response = await send;
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<JsonNode> Json(Task<HttpResponseMessage> send)
    {
        using var response = await send;
        return await ReadJson(response);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in Replicas)
        {
            await replica.DisposeAsync();
        }

        Redis.Dispose();
        await Vault.DisposeAsync();
        _directory.Dispose();
    }

    internal sealed class Replica(GatehouseHost host, CapturingWriter log) : IAsyncDisposable
    {
        public GatehouseHost Host { get; } = host;

        public CapturingWriter Log { get; } = log;

        public HttpClient Client { get; } = new() { BaseAddress = host.Addresses[0].Address };

        public LeaseCache Cache => Host.Services.GetRequiredService<LeaseCache>();

        public SharedEntries Shared => Cache.Shared!;

        public StaticSecretCache Static => Host.Services.GetRequiredService<StaticSecretCache>();

        public SharedStore Store => Host.Services.GetRequiredService<SharedStore>();

        /// <summary>The fleet identity (with <c>autoAuth</c> only).</summary>
        public Gatehouse.AutoAuth.FleetAuthService Fleet => Host.Services.GetRequiredService<Gatehouse.AutoAuth.FleetAuthService>();

        /// <summary>Completes when this replica has written <paramref name="count"/> entries to Redis.</summary>
        public Task Writes(int count)
        {
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var n = 0;
            Shared.Written += _ =>
            {
                if (Interlocked.Increment(ref n) == count)
                {
                    seen.TrySetResult();
                }
            };
            return seen.Task.WaitAsync(Bound);
        }

        /// <summary>Completes when this replica has applied <paramref name="operation"/> from another replica.</summary>
        /// <summary>Completes when this replica has applied <paramref name="count"/> messages of <paramref name="operation"/> from the others.</summary>
        public Task Applied(string operation, int count = 1)
        {
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var left = count;
            Shared.RemoteApplied += op =>
            {
                if (op == operation && Interlocked.Decrement(ref left) == 0)
                {
                    seen.TrySetResult();
                }
            };
            return seen.Task.WaitAsync(Bound);
        }

        public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, object? body = null)
        {
            using var request = new HttpRequestMessage(method, path);
            if (token is not null)
            {
                request.Headers.Add("X-Vault-Token", token);
            }

            if (body is not null)
            {
                request.Content = JsonContent.Create(body);
            }

            return await Client.SendAsync(request);
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Host.DisposeAsync();
        }
    }
}
