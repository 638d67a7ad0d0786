using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.DevVault.Tests;

public sealed class ConsistencyTests
{
    [Fact]
    public async Task Consistency_Off_BehavesLikeOss()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        var (_, _, response) = await vault.SendAsync("POST", "secret/data/a", server.RootToken, new { data = new { a = 1 } });
        Assert.False(response.Headers.Contains("X-Vault-Index"));
        var (status, _, _) = await vault.SendAsync("GET", "secret/data/a", server.RootToken, headers: new() { ["X-Vault-Index"] = "garbage" });
        Assert.Equal(200, status);
        var (fwd, body, _) = await vault.SendAsync("GET", "secret/data/a", server.RootToken, headers: new() { ["X-Vault-Inconsistent"] = "forward-active-node" });
        Assert.Equal(400, fwd);
        Assert.Equal("forwarding via header X-Vault-Inconsistent=forward-active-node disabled in configuration", body!["errors"]![0]!.ToString());
    }

    [Fact]
    public async Task Consistency_On_NewerIndexThanApplied_Gets412UntilLagPasses()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions
        {
            TimeProvider = clock, EnterpriseConsistency = true, ReplicationLag = TimeSpan.FromSeconds(2),
        });
        using var vault = new Vault(server);
        var (_, _, write) = await vault.SendAsync("POST", "secret/data/a", server.RootToken, new { data = new { a = 1 } });
        var index = Assert.Single(write.Headers.GetValues("X-Vault-Index"));

        var (status, body, _) = await vault.SendAsync("GET", "secret/data/a", server.RootToken, headers: new() { ["X-Vault-Index"] = index });
        Assert.Equal(412, status);
        Assert.Equal("""{"errors":["required index state not present"]}""", body!.ToJsonString());

        var forwarded = await vault.SendAsync("GET", "secret/data/a", server.RootToken, headers: new() { ["X-Vault-Index"] = index, ["X-Vault-Inconsistent"] = "forward-active-node" });
        Assert.Equal(200, forwarded.Status);

        clock.Advance(TimeSpan.FromSeconds(2));
        var (after, _, read) = await vault.SendAsync("GET", "secret/data/a", server.RootToken, headers: new() { ["X-Vault-Index"] = index });
        Assert.Equal(200, after);
        Assert.Equal(index, Assert.Single(read.Headers.GetValues("X-Vault-Index")));
    }

    [Fact]
    public async Task Consistency_On_UnknownIndex_IsIgnored()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { EnterpriseConsistency = true });
        using var vault = new Vault(server);
        var (status, _, _) = await vault.SendAsync("GET", "sys/mounts", server.RootToken, headers: new() { ["X-Vault-Index"] = "djE6YTpiOmM6ZA==" });
        Assert.Equal(200, status);
    }
}
