using System.Net;
using System.Text.Json.Nodes;
using Gatehouse.AutoAuth;
using Gatehouse.Hosting;

namespace Gatehouse.IntegrationTests.Operations;

/// <summary>The health endpoint through the real host: login, Vault down past the threshold, Vault back.</summary>
public sealed class HealthEndToEndTests
{
    private static async Task<(HttpStatusCode Status, JsonNode Body)> HealthAsync(HttpClient client, string path = "/agent/v1/health")
    {
        using var response = await client.GetAsync(path);
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    [Fact]
    public async Task Health_BeforeLogin503_AfterLogin200_VaultDownPastThreshold503_Back200()
    {
        await using var h = await OpsHarness.StartVaultAsync();

        // No secret_id file yet: the login fails and backs off.
        await h.StartGatehouseAsync(h.Hcl());
        using var probe = h.ClientFor(1);
        var (status, body) = await HealthAsync(probe);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.False(body["authenticated"]!.GetValue<bool>());
        Assert.Null(body["token_ttl_seconds"]);
        Assert.Null(body["last_login"]);

        // The credentials arrive; the next attempt, exactly when the backoff ends, logs in.
        var backoff = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        await File.WriteAllTextAsync(h.PathOf("secret_id"), h.SecretId);
        h.Time.Advance(backoff.Delay);
        await h.Host.TokenStore.FirstToken.WaitAsync(OpsHarness.Hang);
        (status, body) = await HealthAsync(probe, "/proxy/v1/health");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body["authenticated"]!.GetValue<bool>());
        Assert.Equal(3600, body["token_ttl_seconds"]!.GetValue<long>());
        Assert.True(body["vault_reachable"]!.GetValue<bool>());
        Assert.NotNull(body["last_login"]);
        Assert.True(body["cache_entries"]!.GetValue<int>() >= 0);

        // Vault goes away: the next proxied request fails to connect. Unreachable but within the threshold: still 200.
        await h.Vault.Faults.StopListenerAsync();
        Assert.Equal(502, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
        (status, body) = await HealthAsync(probe);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(body["vault_reachable"]!.GetValue<bool>());

        // Past the grace: only a probe that asks for Vault (?vault=required) turns 503. The default readiness stays
        // 200 while the token is valid, so an outage does not take every pod out of its Service; liveness stays 200.
        h.Time.Advance(TimeSpan.FromSeconds(61));
        (status, body) = await HealthAsync(probe, "/agent/v1/health?vault=required");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.True(body["authenticated"]!.GetValue<bool>());
        Assert.False(body["vault_reachable"]!.GetValue<bool>());
        Assert.Equal(61, body["vault_unreachable_seconds"]!.GetValue<long>());
        (status, body) = await HealthAsync(probe);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body["ready"]!.GetValue<bool>());
        Assert.False(body["vault_reachable"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.OK, (await HealthAsync(probe, "/proxy/v1/health?vault=required&vault_grace=2m")).Status);
        Assert.Equal(HttpStatusCode.OK, (await HealthAsync(probe, "/proxy/v1/health?probe=live")).Status);

        // Vault is back on the same port: the first answer makes it reachable again.
        await h.Vault.Faults.RestartListenerAsync();
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
        (status, body) = await HealthAsync(probe, "/agent/v1/health?vault=required");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(body["vault_reachable"]!.GetValue<bool>());
        Assert.Null(body["vault_unreachable_seconds"]);
    }

    [Fact]
    public async Task Health_VaultDownAtStart_NotReadyWithoutToken_ButLive()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await File.WriteAllTextAsync(h.PathOf("secret_id"), h.SecretId);
        await h.Vault.Faults.StopListenerAsync();

        await h.StartGatehouseAsync(h.Hcl());
        using var probe = h.ClientFor(1);
        var backoff = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);

        // No token yet: readiness is 503 whatever the Vault query says; liveness never depends on Vault or the token.
        var (status, body) = await HealthAsync(probe);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.False(body["ready"]!.GetValue<bool>());
        Assert.False(body["vault_reachable"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.OK, (await HealthAsync(probe, "/agent/v1/health?probe=live")).Status);
    }

    private static async Task<(int Code, string Output)> HealthCommandAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = await GatehouseCommand.RunAsync(["health", .. args], stdout, stderr, _ => null, CancellationToken.None);
        return (code, stdout.ToString() + stderr);
    }

    [Fact]
    public async Task HealthCommand_OverUnixSocketAndTcp_ExitsZeroWhenReady_OneWhenNot()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        using var directory = new TempDirectory("gatehouse-health-");
        var socket = Path.Combine(directory, "g.sock");
        await h.StartGatehouseAsync(h.Hcl(extra: $$"""
            listener "unix" {
              address     = "{{socket}}"
              tls_disable = true
            }
            """));
        var unix = $"-address=unix://{socket}";
        var tcp = $"-address={h.Host.Addresses[1].Address.ToString().TrimEnd('/')}";

        // No secret_id yet: not ready (1, the 503 body on stderr), but live.
        var (code, output) = await HealthCommandAsync(unix);
        Assert.Equal(1, code);
        Assert.StartsWith("unhealthy (503): {\"authenticated\":false,", output, StringComparison.Ordinal);
        Assert.Equal(0, (await HealthCommandAsync(unix, "-probe=live")).Code);

        var backoff = await h.NextAuthWaitAsync();
        await File.WriteAllTextAsync(h.PathOf("secret_id"), h.SecretId);
        h.Time.Advance(backoff.Delay);
        await h.Host.TokenStore.FirstToken.WaitAsync(OpsHarness.Hang);
        (code, output) = await HealthCommandAsync(unix);
        Assert.Equal(0, code);
        Assert.StartsWith("healthy (200): {\"authenticated\":true,", output, StringComparison.Ordinal);
        Assert.Equal(0, (await HealthCommandAsync(tcp)).Code);

        // Vault away past the grace: -vault=required fails, the default readiness holds.
        await h.Vault.Faults.StopListenerAsync();
        Assert.Equal(502, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
        h.Time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(0, (await HealthCommandAsync(tcp, "-vault=required")).Code);
        (code, output) = await HealthCommandAsync(tcp, "-vault=required", "-vault-grace=30s");
        Assert.Equal(1, code);
        Assert.Contains("\"vault_unreachable_seconds\":31,", output, StringComparison.Ordinal);
        Assert.Equal(0, (await HealthCommandAsync(tcp)).Code);
    }

    [Fact]
    public async Task Health_IsNeverProxied_AndAnswersHeadButNotPost()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await File.WriteAllTextAsync(h.PathOf("secret_id"), h.SecretId);
        await h.StartGatehouseAsync(h.Hcl());
        await h.Host.TokenStore.FirstToken.WaitAsync(TimeSpan.FromSeconds(30));
        var before = h.Vault.Faults.RequestCount;

        using var head = await h.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/agent/v1/health"));
        using var post = await h.Client.PostAsync("/proxy/v1/health", null);
        var (status, _) = await HealthAsync(h.Client);

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(before, h.Vault.Faults.RequestCount);
    }
}
