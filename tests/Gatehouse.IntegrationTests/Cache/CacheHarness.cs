using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Gatehouse.Cache;
using Gatehouse.Configuration;
using Gatehouse.DevVault;
using Gatehouse.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.IntegrationTests.Cache;

/// <summary>DevVault (leased KV, approle) and the real Gatehouse host with a cache stanza, on one fake clock.</summary>
internal sealed class CacheHarness : IAsyncDisposable
{
    private CacheHarness(DevVaultServer vault, GatehouseHost host, GatehouseConfig config, FakeTimeProvider time, string roleId, string secretId)
    {
        Vault = vault;
        Host = host;
        Config = config;
        Time = time;
        RoleId = roleId;
        SecretId = secretId;
        Client = new HttpClient { BaseAddress = host.Addresses[0].Address };
        Root = new HttpClient { BaseAddress = vault.Address };
        Root.DefaultRequestHeaders.Add("X-Vault-Token", vault.RootToken);
    }

    public DevVaultServer Vault { get; }

    public GatehouseHost Host { get; private set; }

    public GatehouseConfig Config { get; private set; }

    public FakeTimeProvider Time { get; }

    public string RoleId { get; }

    public string SecretId { get; }

    /// <summary>Talks to Gatehouse.</summary>
    public HttpClient Client { get; private set; }

    /// <summary>Talks to DevVault directly with the root token.</summary>
    public HttpClient Root { get; }

    public LeaseCache Cache => Host.Services.GetRequiredService<LeaseCache>();

    public static async Task<CacheHarness> StartAsync(Func<CacheConfig, CacheConfig>? cache = null)
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
        await Ok(root.PutAsJsonAsync("/v1/secret/plain", new { password = "static" }));

        var config = new GatehouseConfig
        {
            Vault = new VaultConfig { Address = vault.Address.ToString().TrimEnd('/'), NumRetries = -1 },
            ApiProxy = new ApiProxyConfig(),
            Cache = cache?.Invoke(new CacheConfig()) ?? new CacheConfig(),
            Listeners = [new ListenerConfig { Type = ListenerType.Tcp, Address = "127.0.0.1:0", TlsDisable = true }],
        };
        var host = await GatehouseHost.StartAsync(config, new GatehouseHostOptions { TimeProvider = time });
        return new CacheHarness(vault, host, config, time, roleId, secretId);
    }

    /// <summary>
    /// Stops Gatehouse (as SIGTERM would) and starts a new host on the same DevVault and clock, with the cache stanza
    /// changed by <paramref name="cache"/> when given. DevVault keeps every token and lease.
    /// </summary>
    public async Task RestartHostAsync(Func<CacheConfig, CacheConfig>? cache = null)
    {
        if (!_hostStopped)
        {
            await StopHostAsync();
        }

        Config = Config with { Cache = cache?.Invoke(Config.Cache!) ?? Config.Cache };
        Host = await GatehouseHost.StartAsync(Config, new GatehouseHostOptions { TimeProvider = Time });
        Client = new HttpClient { BaseAddress = Host.Addresses[0].Address };
        _hostStopped = false;
    }

    /// <summary>Stops Gatehouse only (DevVault keeps running).</summary>
    public async Task StopHostAsync()
    {
        _hostStopped = true;
        Client.Dispose();
        await Host.DisposeAsync();
    }

    private bool _hostStopped;

    public Task<HttpResponseMessage> LoginAsync(string? secretId = null) =>
        Client.PutAsJsonAsync("/v1/auth/approle/login", new { role_id = RoleId, secret_id = secretId ?? SecretId });

    public async Task<string> LoginTokenAsync() => (await ReadJson(await LoginAsync()))["auth"]!["client_token"]!.ToString();

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

    public static string? XCache(HttpResponseMessage response) => response.Headers.TryGetValues("X-Cache", out var values) ? values.Single() : null;

    public static async Task<JsonNode> ReadJson(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>Advances the shared clock and waits until every renewal it made due has finished.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        Time.Advance(by);
        await Cache.Renewer.WhenIdleAsync();
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
        Root.Dispose();
        if (!_hostStopped)
        {
            Client.Dispose();
            await Host.DisposeAsync();
        }

        await Vault.DisposeAsync();
    }
}
