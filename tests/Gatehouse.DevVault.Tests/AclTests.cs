namespace Gatehouse.DevVault.Tests;

public sealed class AclTests
{
    private const string Policy = """
path "secret/data/app" { capabilities = ["create", "read", "update"] }
path "secret/data/*" { capabilities = ["read"] }
path "secret/data/denied/*" { capabilities = ["deny"] }
path "secret/metadata/+/config" { capabilities = ["list", "read"] }
path "kv/+/shared/*" { capabilities = ["update"] }
path "sys/seal" { capabilities = ["update", "sudo"] }
# a comment
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
""";

    [Theory]
    [InlineData("secret/data/app", "create,read,update")]       // exact beats glob
    [InlineData("secret/data/other", "read")]                   // glob
    [InlineData("secret/data/app/nested", "read")]              // glob matches deeper paths
    [InlineData("secret/data/denied/x", "deny")]                // longer glob wins, deny is final
    [InlineData("secret/metadata/team/config", "list,read")]    // + is one segment
    [InlineData("secret/metadata/a/b/config", "deny")]          // + is not two segments
    [InlineData("kv/team/shared/db/password", "update")]        // + then *
    [InlineData("kv/team/private", "deny")]
    [InlineData("sys/seal", "sudo,update")]
    [InlineData("secret/data", "deny")]                         // "secret/data/*" needs the slash
    [InlineData("auth/token/lookup-self", "read")]
    public void Acl_Capabilities_FollowVaultGlobRules(string path, string expected)
    {
        var policy = Gatehouse.DevVault.Policy.Parse("p", Policy, out var error);
        Assert.True(policy is not null, error);
        var acl = new Acl([policy!]);
        var names = Gatehouse.DevVault.Policy.CapabilityNames(acl.Capabilities(path)).Order(StringComparer.Ordinal);
        Assert.Equal(expected, string.Join(',', names));
    }

    [Theory]
    [InlineData("secret/", true)]       // secret/data/* lies under it
    [InlineData("kv/", true)]           // kv/+/shared/* could match under it
    [InlineData("sys/", true)]          // sys/seal
    [InlineData("auth/token/", true)]   // auth/token/lookup-self
    [InlineData("cubbyhole/", false)]
    [InlineData("auth/approle/", false)]
    public void Acl_HasMountAccess_IsAnyGrantOnOrUnderTheMount(string mount, bool expected)
    {
        var policy = Gatehouse.DevVault.Policy.Parse("p", Policy, out var error);
        Assert.True(policy is not null, error);
        Assert.Equal(expected, new Acl([policy!]).HasMountAccess(mount));
    }

    [Fact]
    public void Acl_HasMountAccess_DenyAloneGrantsNothing()
    {
        var policy = Gatehouse.DevVault.Policy.Parse("p", """path "secret/data/x" { capabilities = ["deny"] }""", out _)!;
        Assert.False(new Acl([policy]).HasMountAccess("secret/"));
        var glob = Gatehouse.DevVault.Policy.Parse("g", """path "secre*" { capabilities = ["read"] }""", out _)!;
        Assert.True(new Acl([glob]).HasMountAccess("secret/"));
    }

    [Fact]
    public void Policy_JsonForm_IsAccepted()
    {
        var policy = Gatehouse.DevVault.Policy.Parse("p", """{"path":{"secret/*":{"capabilities":["read","list"]}}}""", out var error);
        Assert.True(policy is not null, error);
        Assert.Equal(Caps.Read | Caps.List, new Acl([policy!]).Capabilities("secret/x"));
    }

    [Theory]
    [InlineData("path \"x\" { capabilities = ", "At 1:28: object expected closing RBRACE got: EOF")]
    [InlineData("path \"x\" { capabilities = [\"fly\"] }", "path \"x\": invalid capability \"fly\"")]
    public void Policy_Invalid_ReportsVaultsMessage(string text, string message)
    {
        Assert.Null(Gatehouse.DevVault.Policy.Parse("p", text, out var error));
        Assert.Equal(message, error);
    }

    [Fact]
    public void Acl_RootPolicy_AllowsEverything()
    {
        var acl = new Acl([new Gatehouse.DevVault.Policy("root", "", [])]);
        Assert.True(acl.Capabilities("anything/at/all").HasFlag(Caps.Root));
    }

    [Fact]
    public async Task Acl_EnforcedOnEveryRequest_PolicyShapedForbidden()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        await vault.OkAsync("PUT", "sys/policies/acl/reader", body: new { policy = "path \"secret/data/*\" { capabilities = [\"read\"] }" });
        await vault.OkAsync("POST", "secret/data/a", body: new { data = new { k = "v" } });
        var token = await vault.CreateTokenAsync(new { policies = new[] { "reader" } });

        Assert.Equal(200, (await vault.SendAsync("GET", "secret/data/a", token)).Status);
        var (status, body, _) = await vault.SendAsync("POST", "secret/data/a", token, new { data = new { k = "x" } });
        Assert.Equal(403, status);
        Assert.Equal("1 error occurred:\n\t* permission denied\n\n", body!["errors"]![0]!.ToString());
        var caps = await vault.OkAsync("POST", "sys/capabilities-self", token, new { paths = new[] { "secret/data/a", "kv/x" } });
        Assert.Equal("[\"read\"]", caps["data"]!["secret/data/a"]!.ToJsonString());
        Assert.Equal("[\"deny\"]", caps["data"]!["kv/x"]!.ToJsonString());
    }
}
