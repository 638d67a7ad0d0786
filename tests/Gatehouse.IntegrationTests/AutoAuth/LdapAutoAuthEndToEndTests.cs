using Gatehouse.AutoAuth;
using Gatehouse.IntegrationTests.Operations;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>
/// The ldap method through the real host: an HCL config loaded as <c>gatehouse proxy</c> loads it, logging in to
/// DevVault's ldap backend (whose stand-in directory plays the LDAP server), renewing, logging in again when Vault
/// revokes the token, and picking up a rotated password file. No log line ever holds a password.
/// </summary>
public sealed class LdapAutoAuthEndToEndTests
{
    private const string Login = "/v1/auth/ldap/login/svc-app";

    private static async Task SetUpLdapAsync(OpsHarness h, string password)
    {
        await h.RootAsync(HttpMethod.Post, "sys/auth/ldap", new { type = "ldap" });
        await h.RootAsync(HttpMethod.Post, "auth/ldap/config", new { url = "ldap://ldap.example.com", token_ttl = "1h" });
        await h.RootAsync(HttpMethod.Post, "auth/ldap/groups/apps", new { policies = "all" });
        await h.RootAsync(HttpMethod.Post, "auth/ldap/dev-directory/svc-app", new { password, groups = "apps" });
    }

    private static string Hcl(OpsHarness h, string methodExtra = "") => $$"""
        log_level = "trace"
        vault {
          address = "{{h.Vault.Address}}"
        }
        auto_auth {
          method "ldap" {
            config = {
              username           = "svc-app"
              password_file_path = "{{h.PathOf("ldap-password")}}"
              {{methodExtra}}
            }
          }
          sink "file" {
            config = {
              path = "{{h.PathOf("token-sink")}}"
            }
          }
        }
        api_proxy {
          use_auto_auth_token = true
        }
        listener "tcp" {
          address     = "127.0.0.1:0"
          tls_disable = true
        }
        """;

    [Fact]
    public async Task Ldap_LogsInRenewsLogsInAgainAfterRevocation_WithTheRotatedPassword()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await SetUpLdapAsync(h, "first-Passw0rd");
        await File.WriteAllTextAsync(h.PathOf("ldap-password"), "first-Passw0rd");

        await h.StartGatehouseAsync(Hcl(h));
        var renewal = await h.NextAuthWaitAsync();
        await h.FirstSinkWriteAsync();

        Assert.Equal(AuthWaitReason.Renewal, renewal.Reason);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
        Assert.False(File.Exists(h.PathOf("ldap-password")), "remove_password_after_reading defaults to true");
        var first = await File.ReadAllTextAsync(h.PathOf("token-sink"));
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        // Renewal: renew-self with the ldap token.
        h.Time.Advance(renewal.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", "/v1/auth/token/renew-self"));
        Assert.Equal(first, h.Host.TokenStore.Current!.Token);

        // The directory's password rotates and the new one is dropped into the file; the old one no longer binds.
        await h.RootAsync(HttpMethod.Post, "auth/ldap/dev-directory/svc-app", new { password = "second-Passw0rd", groups = "apps" });
        await File.WriteAllTextAsync(h.PathOf("ldap-password"), "second-Passw0rd");

        // Vault revokes the token: the next proxied 403 is checked with lookup-self and causes one new login.
        var next = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Host.TokenStore.Published += token => next.TrySetResult(token.Token);
        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token = first });
        Assert.Equal(403, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        var second = await next.Task.WaitAsync(OpsHarness.Hang);
        Assert.NotEqual(first, second);
        Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", Login));
        Assert.False(File.Exists(h.PathOf("ldap-password")), "the rotated file was read and removed");
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
        var self = await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token = second });
        Assert.Equal("svc-app", self!["data"]!["meta"]!["username"]!.ToString());

        Assert.DoesNotContain("Passw0rd", h.ConsoleLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ldap_WrongPassword_BacksOffWithVaultsMessage_NeverLogsIt_AndTheFixedFileIsUsed()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await SetUpLdapAsync(h, "right-Passw0rd");
        await File.WriteAllTextAsync(h.PathOf("ldap-password"), "wrong-Passw0rd");

        await h.StartGatehouseAsync(Hcl(h, "remove_password_after_reading = false"));
        var backoff = await h.NextAuthWaitAsync();

        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        Assert.InRange(backoff.Delay, TimeSpan.FromSeconds(0.75), TimeSpan.FromSeconds(1));
        await h.WaitForLogAsync("ldap operation failed: failed to bind as user");
        Assert.Contains("auth/ldap/login/svc-app", h.ConsoleLog, StringComparison.Ordinal);
        Assert.True(File.Exists(h.PathOf("ldap-password")), "remove_password_after_reading = false keeps the file");

        // A second failure doubles the wait.
        h.Time.Advance(backoff.Delay);
        var second = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, second.Reason);
        Assert.InRange(second.Delay, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(2));

        // The file is read again at the next login.
        await File.WriteAllTextAsync(h.PathOf("ldap-password"), "right-Passw0rd");
        h.Time.Advance(second.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        await h.FirstSinkWriteAsync();
        Assert.Equal(3, h.Vault.Faults.CountRequests("PUT", Login));
        Assert.True(File.Exists(h.PathOf("ldap-password")));

        Assert.DoesNotContain("Passw0rd", h.ConsoleLog, StringComparison.Ordinal);
    }
}
