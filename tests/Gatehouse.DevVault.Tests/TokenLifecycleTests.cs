using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.DevVault.Tests;

public sealed class TokenLifecycleTests
{
    private static async Task<(DevVaultServer, Vault, FakeTimeProvider)> StartAsync()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var server = await DevVaultServer.StartAsync(new DevVaultOptions { TimeProvider = clock });
        return (server, new Vault(server), clock);
    }

    [Fact]
    public async Task Token_AfterTtl_IsRejectedAsBadToken()
    {
        var (server, vault, clock) = await StartAsync();
        await using var _ = server;
        using var __ = vault;
        var token = await vault.CreateTokenAsync(new { policies = new[] { "default" }, ttl = "1h" });
        clock.Advance(TimeSpan.FromMinutes(59));
        var lookup = await vault.OkAsync("GET", "auth/token/lookup-self", token);
        Assert.Equal(60, lookup["data"]!["ttl"]!.GetValue<long>());
        clock.Advance(TimeSpan.FromMinutes(1));
        var (status, body, _) = await vault.SendAsync("GET", "auth/token/lookup-self", token);
        Assert.Equal(403, status);
        Assert.Equal("""{"errors":["permission denied"]}""", body!.ToJsonString());
    }

    [Fact]
    public async Task Token_RenewPastExplicitMaxTtl_IsCappedWithWarning()
    {
        var (server, vault, clock) = await StartAsync();
        await using var _ = server;
        using var __ = vault;
        var token = await vault.CreateTokenAsync(new { policies = new[] { "default" }, ttl = "1h", explicit_max_ttl = "2h" });
        clock.Advance(TimeSpan.FromMinutes(30));
        var renewed = await vault.OkAsync("POST", "auth/token/renew-self", token, new { increment = "5h" });
        Assert.Equal(5400, renewed["auth"]!["lease_duration"]!.GetValue<long>());
        Assert.Equal("TTL of \"5h\" exceeded the effective max_ttl of \"1h30m\"; TTL value is capped accordingly", renewed["warnings"]![0]!.ToString());
        clock.Advance(TimeSpan.FromMinutes(90));
        Assert.Equal(403, (await vault.SendAsync("GET", "auth/token/lookup-self", token)).Status);
    }

    [Fact]
    public async Task Token_RenewWithoutIncrement_ReusesLastTtl()
    {
        var (server, vault, clock) = await StartAsync();
        await using var _ = server;
        using var __ = vault;
        var token = await vault.CreateTokenAsync(new { policies = new[] { "default" }, ttl = "1h" });
        await vault.OkAsync("POST", "auth/token/renew-self", token, new { increment = "30m" });
        clock.Advance(TimeSpan.FromMinutes(10));
        var renewed = await vault.OkAsync("POST", "auth/token/renew-self", token);
        Assert.Equal(1800, renewed["auth"]!["lease_duration"]!.GetValue<long>());
    }

    [Fact]
    public async Task Token_NumUses_ShowsMinusOneOnLastUseThenIsRevoked()
    {
        var (server, vault, _) = await StartAsync();
        await using var __ = server;
        using var ___ = vault;
        var token = await vault.CreateTokenAsync(new { policies = new[] { "default" }, num_uses = 2 });
        Assert.Equal(1, (await vault.OkAsync("GET", "auth/token/lookup-self", token))["data"]!["num_uses"]!.GetValue<int>());
        Assert.Equal(-1, (await vault.OkAsync("GET", "auth/token/lookup-self", token))["data"]!["num_uses"]!.GetValue<int>());
        Assert.Equal(403, (await vault.SendAsync("GET", "auth/token/lookup-self", token)).Status);
    }

    [Fact]
    public async Task Revoke_Parent_RevokesChildren_RevokeOrphan_KeepsThem()
    {
        var (server, vault, _) = await StartAsync();
        await using var __ = server;
        using var ___ = vault;
        await vault.OkAsync("PUT", "sys/policies/acl/creator", body: new { policy = "path \"auth/token/create\" { capabilities = [\"update\"] }" });
        var parent = await vault.CreateTokenAsync(new { policies = new[] { "creator" } });
        var child = await vault.CreateTokenAsync(new { policies = new[] { "creator" } }, parent);
        var grandchild = await vault.CreateTokenAsync(new { }, child);
        await vault.OkAsync("POST", "auth/token/revoke", body: new { token = parent });
        foreach (var t in new[] { parent, child, grandchild })
        {
            Assert.Equal(403, (await vault.SendAsync("GET", "auth/token/lookup-self", t)).Status);
        }

        var parent2 = await vault.CreateTokenAsync(new { policies = new[] { "creator" } });
        var child2 = await vault.CreateTokenAsync(new { policies = new[] { "default" } }, parent2);
        await vault.OkAsync("POST", "auth/token/revoke-orphan", body: new { token = parent2 });
        Assert.Equal(403, (await vault.SendAsync("GET", "auth/token/lookup-self", parent2)).Status);
        var lookup = await vault.OkAsync("GET", "auth/token/lookup-self", child2);
        Assert.True(lookup["data"]!["orphan"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Lease_LeasedKv_ExpiresOnTheClock()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { TimeProvider = clock, LeasedKv = true });
        using var vault = new Vault(server);
        await vault.OkAsync("PUT", "secret/db", body: new { password = "pw", ttl = "10m" });
        var read = await vault.OkAsync("GET", "secret/db");
        var leaseId = read["lease_id"]!.ToString();
        Assert.True(read["renewable"]!.GetValue<bool>());
        clock.Advance(TimeSpan.FromMinutes(9));
        var renewed = await vault.OkAsync("PUT", "sys/leases/renew", body: new { lease_id = leaseId, increment = 300 });
        Assert.Equal(300, renewed["lease_duration"]!.GetValue<long>());
        clock.Advance(TimeSpan.FromMinutes(5));
        var (status, body, _) = await vault.SendAsync("PUT", "sys/leases/lookup", server.RootToken, new { lease_id = leaseId });
        Assert.Equal(400, status);
        Assert.Equal("invalid lease", body!["errors"]![0]!.ToString());
    }

    [Fact]
    public async Task AppRole_Login_GivesOrphanTokenWithRoleMetadata()
    {
        var (server, vault, _) = await StartAsync();
        await using var __ = server;
        using var ___ = vault;
        using var dir = new TempDirectory("devvault--");
        var result = await DevScenario.SetUpAsync(server, dir, CancellationToken.None);
        var login = await vault.OkAsync("POST", "auth/approle/login", null, new
        {
            role_id = await File.ReadAllTextAsync(result.RoleIdPath),
            secret_id = await File.ReadAllTextAsync(result.SecretIdPath),
        });
        var auth = login["auth"]!;
        Assert.True(auth["orphan"]!.GetValue<bool>());
        Assert.Equal(3600, auth["lease_duration"]!.GetValue<long>());
        Assert.Equal("dev", auth["metadata"]!["role_name"]!.ToString());
        var secret = await vault.OkAsync("GET", "secret/data/hello", auth["client_token"]!.ToString());
        Assert.Equal("hello from DevVault", secret["data"]!["data"]!["message"]!.ToString());
    }
}
