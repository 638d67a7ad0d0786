namespace Gatehouse.IntegrationTests.Operations;

/// <summary>
/// A 403 on a request the proxy made with the auto-auth token: a policy denial must not make Gatehouse log in again
/// (an application asking for a forbidden path would otherwise cause a login storm); a revoked token must.
/// </summary>
public sealed class AutoAuthRejectionEndToEndTests
{
    private const string Login = "/v1/auth/approle/login";

    [Fact]
    public async Task PolicyDenials_CauseNoLogin_ButAVaultRevokedToken_CausesOneNewLogin()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await File.WriteAllTextAsync(h.PathOf("secret_id"), h.SecretId);
        await h.StartGatehouseAsync(h.Hcl(logLevel: "debug", cache: false));
        await h.Host.TokenStore.FirstToken.WaitAsync(OpsHarness.Hang);
        var first = h.Host.TokenStore.Current!.Token;

        // The auto-auth token's policy now denies one path.
        await h.RootAsync(HttpMethod.Put, "sys/policies/acl/all", new
        {
            policy = "path \"*\" { capabilities = [\"create\", \"read\", \"update\", \"delete\", \"list\", \"sudo\"] }\n" +
                     "path \"secret/data/forbidden\" { capabilities = [\"deny\"] }",
        });

        // 1. A burst of policy denials: one lookup-self to check, no new login.
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(403, (await h.SendAsync(HttpMethod.Get, "/v1/secret/data/forbidden")).Status);
        }

        await h.WaitForLogAsync("not logging in again");
        Assert.Equal(1, h.Vault.Faults.CountRequests("GET", "/v1/auth/token/lookup-self"));
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
        Assert.Equal(first, h.Host.TokenStore.Current!.Token);

        // 2. Vault revokes the token; past the check interval, the next 403 is confirmed and causes one login.
        var next = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Host.TokenStore.Published += token => next.TrySetResult(token.Token);
        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token = first });
        h.Time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(403, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        Assert.NotEqual(first, await next.Task.WaitAsync(OpsHarness.Hang));
        await h.WaitForLogAsync("Vault rejected the auto-auth token on a proxied request");
        Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", Login));
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
    }
}
