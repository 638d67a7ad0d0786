using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gatehouse.IntegrationTests.Support;
using StackExchange.Redis;

namespace Gatehouse.IntegrationTests.Operations;

/// <summary>
/// Every feature at least once through the real <c>gatehouse</c> executable, as a user runs it (the test build's
/// apphost, or the shipped Native AOT binary under scripts/test-published.sh): <c>dev</c>, <c>validate</c>, and
/// <c>proxy</c> with approle auto-auth, a file sink, the auto-auth token added to token-less requests, a lease-cache
/// hit, tcp and unix listeners, Prometheus metrics, SIGHUP reload, SIGTERM drain, the static-secret cache and the
/// shared Redis cache. DevVault runs in this process. (The cloud and kerberos methods have their executable cases
/// beside their other end-to-end tests.)
/// </summary>
[Trait("Executable", "true")]
public sealed class ExecutableEndToEndTests
{
    private static string UnixListener(string socket) => $"listener \"unix\" {{\n  address = \"{socket}\"\n  tls_disable = true\n}}";

    private static async Task<GatehouseProcess> StartProxyAsync(OpsHarness h, string hcl)
    {
        await File.WriteAllTextAsync(h.PathOf("secret_id"), h.SecretId);
        await File.WriteAllTextAsync(h.ConfigPath, hcl);
        return GatehouseProcess.Start(["proxy", $"-config={h.ConfigPath}"]);
    }

    private static async Task<(HttpStatusCode Status, string Body, string? Cache)> GetAsync(HttpClient client, string path, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Add("X-Vault-Token", token);
        }

        using var response = await client.SendAsync(request);
        var cache = response.Headers.TryGetValues("X-Cache", out var values) ? values.Single() : null;
        return (response.StatusCode, await response.Content.ReadAsStringAsync(), cache);
    }

    [Fact]
    public async Task Proxy_ApproleSinkTokenInjectionAndLeaseCacheHit_OverTcpAndUnix_WithPrometheusMetrics()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var gatehouse = await StartProxyAsync(h, h.Hcl(logLevel: "debug", extra: UnixListener(h.PathOf("gatehouse.sock"))));

        var addresses = await gatehouse.ApiAddressesAsync();
        Assert.Equal(3, addresses.Count);
        Assert.Equal("unix://" + h.PathOf("gatehouse.sock"), addresses[2]);
        await gatehouse.WaitForAsync("sink: token (accessor ");
        var token = await File.ReadAllTextAsync(h.PathOf("token-sink"));
        var self = await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token });
        Assert.Contains("all", self!["data"]!["policies"]!.AsArray().Select(p => p!.ToString()));

        // No X-Vault-Token: the auto-auth token is added. The second read, over the unix socket, is a cache hit.
        using var tcp = GatehouseProcess.ClientFor(addresses[0]);
        using var unix = GatehouseProcess.ClientFor(addresses[2]);
        var (status, body, cache) = await GetAsync(tcp, "/v1/secret/db");
        Assert.Equal((HttpStatusCode.OK, "MISS"), (status, cache));
        Assert.Contains("s3cret-db-password", body, StringComparison.Ordinal);
        (status, body, cache) = await GetAsync(unix, "/v1/secret/db");
        Assert.Equal((HttpStatusCode.OK, "HIT"), (status, cache));
        Assert.Contains("s3cret-db-password", body, StringComparison.Ordinal);
        Assert.Equal(1, h.Vault.Faults.CountRequests("GET", "/v1/secret/db"));

        using var metrics = GatehouseProcess.ClientFor(addresses[1]);
        var (metricsStatus, text, _) = await GetAsync(metrics, "/agent/v1/metrics?format=prometheus");
        Assert.Equal(HttpStatusCode.OK, metricsStatus);
        Assert.Contains("\nvault_agent_auth_success 1\n", text, StringComparison.Ordinal);
        Assert.Contains("\nvault_agent_cache_hit{kind=\"lease\"} 1\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain(token, gatehouse.Output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Proxy_Sighup_ReloadsAndNamesWhatNeedsARestart_Sigterm_LetsTheInFlightRequestFinish()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        var hcl = h.Hcl(logLevel: "info", cache: false);
        await using var gatehouse = await StartProxyAsync(h, hcl);
        var addresses = await gatehouse.ApiAddressesAsync();
        using var client = GatehouseProcess.ClientFor(addresses[0]);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(client, "/v1/secret/db")).Status);

        // The log level is applied; use_auto_auth_token is not, and is named (the records are walked by reflection,
        // which the trimmed binary must still see).
        await File.WriteAllTextAsync(h.ConfigPath, hcl
            .Replace("log_level = \"info\"", "log_level = \"debug\"", StringComparison.Ordinal)
            .Replace("use_auto_auth_token = true", "use_auto_auth_token = false", StringComparison.Ordinal));
        await gatehouse.SignalAsync("HUP");
        await gatehouse.WaitForAsync("configuration reloaded: log level debug");
        await gatehouse.WaitForAsync("these changed settings keep their old values until a restart: api_proxy.use_auto_auth_token");

        h.Vault.Faults.ResponseDelay = TimeSpan.FromSeconds(1);
        var slow = GetAsync(client, "/v1/secret/db");
        await h.VaultRequestsAsync("GET", "/v1/secret/db", 2);
        await gatehouse.SignalAsync("TERM");

        var (status, body, _) = await slow.WaitAsync(GatehouseProcess.Hang);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("s3cret-db-password", body, StringComparison.Ordinal);
        Assert.Equal(0, await gatehouse.ExitCodeAsync());
    }

    [Fact]
    public async Task Dev_ServesTheDevSecretThroughTheUnixSocket_AndStopsOnSigint()
    {
        using var dir = new TempDirectory("gatehouse-dev-exe-");
        var socket = Path.Combine(dir, "dev.sock");
        await using var gatehouse = GatehouseProcess.Start(
            ["dev", "-dev-listen-address=127.0.0.1:0", "-proxy-address=127.0.0.1:0", $"-proxy-unix-socket={socket}"]);

        await gatehouse.WaitForAsync("Gatehouse proxy (unix):");
        using var client = GatehouseProcess.ClientFor("unix://" + socket);
        var (status, body, _) = await GetAsync(client, "/v1/secret/data/hello");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("hello from DevVault", JsonNode.Parse(body)!["data"]!["data"]!["message"]!.ToString());

        await gatehouse.SignalAsync("INT");
        Assert.Equal(0, await gatehouse.ExitCodeAsync());
        Assert.Contains("==> gatehouse dev: stopping the proxy and DevVault", gatehouse.Output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_AGoodConfiguration_ExitsZero_AndPrintsTheEffectiveConfigurationAsJson()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await File.WriteAllTextAsync(h.PathOf("secret_id"), h.SecretId);
        await File.WriteAllTextAsync(h.ConfigPath, h.Hcl(extra: "disable_idle_connections = [\"auto-auth\", \"proxying\"]"));
        using var cancel = new CancellationTokenSource(GatehouseProcess.Hang);

        var (code, stdout, stderr) = await GatehouseExecutable.RunAsync(["validate", $"-config={h.ConfigPath}"], cancellationToken: cancel.Token);

        Assert.True(code == 0, stderr);
        var effective = JsonNode.Parse(stdout)!;
        Assert.Equal("approle", effective["auto_auth"]!["method"]!["type"]!.ToString());
        Assert.Equal(h.Vault.Address.ToString().TrimEnd('/'), effective["vault"]!["address"]!.ToString().TrimEnd('/'));
        Assert.Equal(["auto-auth", "proxying"], effective["disable_idle_connections"]!.AsArray().Select(n => n!.ToString()));
    }

    [Fact]
    public async Task Proxy_StaticSecretCache_SecondKvV2ReadByTheSameToken_IsAHit()
    {
        await using var h = await OpsHarness.StartVaultAsync(leasedKv: false);
        await h.RootAsync(HttpMethod.Post, "secret/data/app/db", new { data = new { password = "pw-static" } });
        var token = (await h.RootAsync(HttpMethod.Post, "auth/token/create", new { policies = new[] { "all" }, ttl = "1h" }))!["auth"]!["client_token"]!.ToString();
        await using var gatehouse = await StartProxyAsync(h, h.Hcl(cache: false, extra: "cache {\n  cache_static_secrets = true\n}"));
        using var client = GatehouseProcess.ClientFor((await gatehouse.ApiAddressesAsync())[0]);

        var first = await GetAsync(client, "/v1/secret/data/app/db", token);
        var second = await GetAsync(client, "/v1/secret/data/app/db", token);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal((HttpStatusCode.OK, "HIT"), (second.Status, second.Cache));
        Assert.Contains("pw-static", second.Body, StringComparison.Ordinal);
        Assert.Equal(1, h.Vault.Faults.CountRequests("GET", "/v1/secret/data/app/db"));
    }

    [Fact]
    public async Task Proxy_SharedRedisCache_StoresTheLeaseInRedis_AndAnswersTheSecondReadFromTheCache()
    {
        using var redis = new RedisServer();
        await using var h = await OpsHarness.StartVaultAsync();
        await File.WriteAllTextAsync(h.PathOf("fleet.key"), Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        await using var gatehouse = await StartProxyAsync(h, h.Hcl(cache: false, extra: $$"""
            cache {
              shared "redis" {
                address  = "{{redis.Address}}"
                key_file = "{{h.PathOf("fleet.key")}}"
              }
            }
            """));
        using var client = GatehouseProcess.ClientFor((await gatehouse.ApiAddressesAsync())[0]);

        var first = await GetAsync(client, "/v1/secret/db");
        var second = await GetAsync(client, "/v1/secret/db");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, "HIT"), (first.Status, second.Status, second.Cache));
        Assert.Equal(1, h.Vault.Faults.CountRequests("GET", "/v1/secret/db"));
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Address);
        var keys = connection.GetServer(connection.GetEndPoints()[0]).Keys().Select(k => k.ToString()).ToList();
        Assert.NotEmpty(keys);
        // Sealed: neither the secret nor the token is readable in Redis.
        var db = connection.GetDatabase();
        var token = await File.ReadAllTextAsync(h.PathOf("token-sink"));
        foreach (var key in keys.Where(k => db.KeyType(k) == RedisType.String))
        {
            var value = (string?)await db.StringGetAsync(key) ?? "";
            Assert.DoesNotContain("s3cret-db-password", value, StringComparison.Ordinal);
            Assert.DoesNotContain(token, value, StringComparison.Ordinal);
        }
    }
}
