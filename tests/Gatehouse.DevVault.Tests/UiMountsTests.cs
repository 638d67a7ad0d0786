namespace Gatehouse.DevVault.Tests;

/// <summary>
/// <c>sys/internal/ui/mounts[/path]</c>, which the <c>vault</c> CLI calls before <c>vault kv get</c> to learn the KV
/// version. Vault makes it an unauthenticated path whose handler checks the token's reach itself (a "preflight"),
/// so no policy needs to name the sys path.
/// </summary>
public sealed class UiMountsTests
{
    private const string KvRead = """
path "secret/data/*" { capabilities = ["read"] }
path "auth/token/lookup" { capabilities = ["update"] }
""";

    private static async Task<(DevVaultServer Server, Vault Vault, string KvReader)> StartAsync()
    {
        var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        var vault = new Vault(server);
        await vault.OkAsync("POST", "sys/mounts/kv", body: new { type = "kv", options = new { version = "1" } });
        await vault.OkAsync("PUT", "sys/policies/acl/kvread", body: new { policy = KvRead });
        var token = await vault.CreateTokenAsync(new { policies = new[] { "kvread" }, ttl = "1h" });
        return (server, vault, token);
    }

    // 12-edges "CLI mount detection with a default-policy token" (the token is in fact the kvread one).
    [Fact]
    public async Task UiMounts_TokenWithAccessUnderTheMount_GetsTheMountInfo()
    {
        var (server, vault, token) = await StartAsync();
        await using var _ = server;
        using var __ = vault;
        var (status, body, _) = await vault.SendAsync("GET", "sys/internal/ui/mounts/secret/hello", token);
        Assert.Equal(200, status);
        Assert.Equal("secret/", body!["data"]!["path"]!.ToString());
        Assert.Equal("2", body["data"]!["options"]!["version"]!.ToString());
        Assert.Equal("kv", body["data"]!["type"]!.ToString());
    }

    // 12-edges "CLI mount detection for a path the token has no access to" and "... (no access under secret/)".
    [Theory]
    [InlineData("kvread", "kv/app", "kv/app/")]
    [InlineData("default", "secret/hello", "secret/hello/")]
    [InlineData("kvread", "nosuchmount/x", "nosuchmount/x/")] // no mount: the same 403, so mounts cannot be probed
    public async Task UiMounts_TokenWithoutAccess_GetsThePreflight403(string policy, string path, string quoted)
    {
        var (server, vault, _) = await StartAsync();
        await using var _s = server;
        using var _v = vault;
        var token = await vault.CreateTokenAsync(new { policies = new[] { policy }, ttl = "1h" });
        var (status, body, _) = await vault.SendAsync("GET", "sys/internal/ui/mounts/" + path, token);
        Assert.Equal(403, status);
        Assert.Equal($"preflight capability check returned 403, please ensure client's policies grant access to path \"{quoted}\"", body!["errors"]![0]!.ToString());
    }

    // 12-edges "CLI mount detection without a token".
    [Fact]
    public async Task UiMounts_NoToken_Gets400MissingClientToken()
    {
        var (server, vault, _) = await StartAsync();
        await using var _s = server;
        using var _v = vault;
        var (status, body, _) = await vault.SendAsync("GET", "sys/internal/ui/mounts/secret/hello");
        Assert.Equal(400, status);
        Assert.Equal("missing client token", body!["errors"]![0]!.ToString());
    }

    [Fact]
    public async Task UiMounts_GatehouseDevToken_MayDetectTheKvVersionOfSecret()
    {
        // What `vault kv get secret/hello` does first, with the token `gatehouse dev` logs in with.
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        using var dir = new TempDirectory("devvault-ui-mounts-");
        var files = await DevScenario.SetUpAsync(server, dir, CancellationToken.None);
        var login = await vault.OkAsync("POST", "auth/approle/login", token: "", body: new
        {
            role_id = await File.ReadAllTextAsync(files.RoleIdPath),
            secret_id = await File.ReadAllTextAsync(files.SecretIdPath),
        });
        var token = login["auth"]!["client_token"]!.ToString();
        var (status, body, _) = await vault.SendAsync("GET", "sys/internal/ui/mounts/secret/hello", token);
        Assert.Equal(200, status);
        Assert.Equal("2", body!["data"]!["options"]!["version"]!.ToString());
    }

    [Fact]
    public async Task UiMounts_WithoutAPath_ListsOnlyTheMountsTheTokenCanReach()
    {
        var (server, vault, token) = await StartAsync();
        await using var _ = server;
        using var __ = vault;
        var body = await vault.OkAsync("GET", "sys/internal/ui/mounts", token);
        var secret = body["data"]!["secret"]!.AsObject();
        Assert.True(secret.ContainsKey("secret/"));
        Assert.True(secret.ContainsKey("cubbyhole/")); // default policy: cubbyhole/*
        Assert.False(secret.ContainsKey("kv/"));
        Assert.Equal("kv", secret["secret/"]!["type"]!.ToString());
        Assert.True(body["data"]!["auth"]!.AsObject().ContainsKey("token/")); // default policy: auth/token/lookup-self

        var root = await vault.OkAsync("GET", "sys/internal/ui/mounts");
        Assert.True(root["data"]!["secret"]!.AsObject().ContainsKey("kv/"));
    }

    [Fact]
    public async Task UiMounts_WithoutAPathOrToken_ListsNoMount()
    {
        // No mount is tuned listing_visibility=unauth, so an anonymous caller sees none.
        var (server, vault, _) = await StartAsync();
        await using var _s = server;
        using var _v = vault;
        var (status, body, _) = await vault.SendAsync("GET", "sys/internal/ui/mounts");
        Assert.Equal(200, status);
        Assert.Equal("""{"auth":{},"secret":{}}""", body!["data"]!.ToJsonString());
    }
}
