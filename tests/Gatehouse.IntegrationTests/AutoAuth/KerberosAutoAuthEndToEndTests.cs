using Gatehouse.AutoAuth;
using Gatehouse.IntegrationTests.Operations;
using Gatehouse.IntegrationTests.Support;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>
/// The kerberos method through the real host against a real MIT KDC (<see cref="MitKdc"/>, a throwaway realm on
/// loopback) and DevVault's kerberos backend, which verifies the SPNEGO token with the service's keytab: login,
/// re-login when the (non-renewable, as Vault's) token nears its end, re-login after revocation, and the failures a
/// deployment meets (a keytab with stale keys, a principal the KDC does not know, a KDC that does not answer), each
/// with a clear message and the backoff. No log line holds the Negotiate token.
/// </summary>
[Collection(KerberosCollection.Name)]
public sealed class KerberosAutoAuthEndToEndTests
{
    private const string Login = "/v1/auth/kerberos/login";
    private const string User = "svc-app";

    private static async Task<MitKdc> SetUpAsync(OpsHarness h, string? krb5Conf = null)
    {
        var kdc = await MitKdc.StartAsync();
        await kdc.AddPrincipalAsync(User);
        await kdc.AddPrincipalAsync(MitKdc.Service);
        await kdc.ExportKeytabAsync(User, h.PathOf("client.keytab"));
        await kdc.ExportKeytabAsync(MitKdc.Service, h.PathOf("service.keytab"));
        await File.WriteAllTextAsync(h.PathOf("krb5.conf"), krb5Conf ?? await File.ReadAllTextAsync(kdc.Krb5Conf));

        await h.RootAsync(HttpMethod.Post, "sys/auth/kerberos", new { type = "kerberos" });
        await h.RootAsync(HttpMethod.Post, "auth/kerberos/config", new
        {
            keytab = Convert.ToBase64String(await File.ReadAllBytesAsync(h.PathOf("service.keytab"))),
            service_account = MitKdc.Service,
        });
        await h.RootAsync(HttpMethod.Post, "auth/kerberos/config/ldap", new { url = "ldap://ldap.gatehouse.test", upndomain = MitKdc.Realm, token_ttl = "1h" });
        await h.RootAsync(HttpMethod.Post, "auth/kerberos/groups/apps", new { policies = "all" });
        await h.RootAsync(HttpMethod.Post, $"auth/kerberos/dev-directory/{User}", new { groups = "apps" });
        return kdc;
    }

    private static string Hcl(OpsHarness h, string user = User) => $$"""
        log_level = "trace"
        vault {
          address = "{{h.Vault.Address}}"
        }
        auto_auth {
          method "kerberos" {
            config = {
              username      = "{{user}}"
              service       = "{{MitKdc.Service}}"
              realm         = "{{MitKdc.Realm}}"
              keytab_path   = "{{h.PathOf("client.keytab")}}"
              krb5conf_path = "{{h.PathOf("krb5.conf")}}"
              disable_fast_negotiation = true
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

    /// <summary>Through the real executable (the shipped Native AOT binary under scripts/test-published.sh): GSSAPI by P/Invoke.</summary>
    [Fact]
    [Trait("Executable", "true")]
    public async Task Executable_Kerberos_LogsInWithTheKeytab()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var kdc = await SetUpAsync(h);
        await File.WriteAllTextAsync(h.ConfigPath, Hcl(h));

        await using var gatehouse = GatehouseProcess.Start(["proxy", $"-config={h.ConfigPath}"], new Dictionary<string, string>
        {
            ["HOME"] = Directory.CreateDirectory(h.PathOf("home")).FullName,
        }, "KRB5");
        await gatehouse.WaitForAsync("sink: token (accessor ");

        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
        var self = await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token = await File.ReadAllTextAsync(h.PathOf("token-sink")) });
        Assert.Contains("all", self!["data"]!["policies"]!.AsArray().Select(p => p!.ToString()));
    }

    [Fact]
    public async Task Kerberos_LogsInWithTheKeytab_LogsInAgainBeforeExpiryAndAfterRevocation()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var kdc = await SetUpAsync(h);

        await h.StartGatehouseAsync(Hcl(h));
        var wait = await h.NextAuthWaitAsync();
        await h.FirstSinkWriteAsync();

        // Vault's kerberos tokens are not renewable: the handler waits for the token's end, then logs in again.
        Assert.Equal(AuthWaitReason.Expiry, wait.Reason);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
        var first = await File.ReadAllTextAsync(h.PathOf("token-sink"));
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
        var self = await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token = first });
        Assert.Equal(User, self!["data"]!["meta"]!["user"]!.ToString());
        Assert.Equal(MitKdc.Realm, self["data"]!["meta"]!["domain"]!.ToString());
        Assert.Equal("kerberos-svc-app", self["data"]!["display_name"]!.ToString());

        // The end of the token: a fresh login (a new TGT and service ticket from the KDC), a new token.
        var published = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Host.TokenStore.Published += token => published.TrySetResult(token.Token);
        h.Time.Advance(wait.Delay);
        var second = await published.Task.WaitAsync(OpsHarness.Hang);
        Assert.NotEqual(first, second);
        Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", Login));
        Assert.Equal(AuthWaitReason.Expiry, (await h.NextAuthWaitAsync()).Reason);

        // Vault revokes the token: the next proxied 403 is checked with lookup-self and causes one new login.
        var third = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Host.TokenStore.Published += token => third.TrySetResult(token.Token);
        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token = second });
        Assert.Equal(403, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
        var after = await third.Task.WaitAsync(OpsHarness.Hang);
        Assert.NotEqual(second, after);
        Assert.Equal(3, h.Vault.Faults.CountRequests("PUT", Login));
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        Assert.DoesNotContain("Negotiate ", h.ConsoleLog, StringComparison.Ordinal);
        Assert.DoesNotContain("YII", h.ConsoleLog, StringComparison.Ordinal); // the base64 of a SPNEGO NegTokenInit
    }

    [Fact]
    public async Task Kerberos_StaleKeytab_BacksOffWithKerberosReason_AndANewKeytabIsUsed()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var kdc = await SetUpAsync(h);
        await kdc.RandomizeKeysAsync(User); // the exported keytab now holds old keys

        await h.StartGatehouseAsync(Hcl(h));
        var backoff = await h.NextAuthWaitAsync();

        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        Assert.InRange(backoff.Delay, TimeSpan.FromSeconds(0.75), TimeSpan.FromSeconds(1));
        await h.WaitForLogAsync("couldn't log in to Kerberos: couldn't acquire credentials for svc-app@GATEHOUSE.TEST");
        // The KDC's answer is sealed with the principal's current key, which the keytab does not hold.
        await h.WaitForLogAsync("Decrypt integrity check failed");
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", Login));

        // A second failure doubles the wait.
        h.Time.Advance(backoff.Delay);
        var second = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, second.Reason);
        Assert.InRange(second.Delay, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(2));

        // The keytab is read again at every login: a fresh export logs in.
        File.Delete(h.PathOf("client.keytab"));
        await kdc.ExportKeytabAsync(User, h.PathOf("client.keytab"));
        h.Time.Advance(second.Delay);
        Assert.Equal(AuthWaitReason.Expiry, (await h.NextAuthWaitAsync()).Reason);
        await h.FirstSinkWriteAsync();
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
    }

    [Fact]
    public async Task Kerberos_PrincipalUnknownToTheKdc_IsNamedInTheMessage()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var kdc = await SetUpAsync(h);
        await kdc.DeletePrincipalAsync(User);

        await h.StartGatehouseAsync(Hcl(h));
        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync("not found in Kerberos database");
        Assert.Contains("svc-app@GATEHOUSE.TEST", h.ConsoleLog, StringComparison.Ordinal);
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", Login));
    }

    [Fact]
    public async Task Kerberos_KdcUnreachable_BacksOffWithKerberosReason()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var kdc = await SetUpAsync(h, krb5Conf: MitKdc.KrbConf(MitKdc.FreePort()));

        await h.StartGatehouseAsync(Hcl(h));
        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync("Cannot contact any KDC for realm 'GATEHOUSE.TEST'");
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", Login));
    }

    [Fact]
    public async Task Kerberos_UserWithoutDirectoryEntry_GetsVaultsRefusal_WithTheLoginPath()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var kdc = await SetUpAsync(h);
        await h.RootAsync(HttpMethod.Delete, $"auth/kerberos/dev-directory/{User}");

        await h.StartGatehouseAsync(Hcl(h));
        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync("unable to get user binddn");
        Assert.Contains("auth/kerberos/login", h.ConsoleLog, StringComparison.Ordinal);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
    }

    [Fact]
    public async Task Kerberos_VaultsKeytabHasOtherKeys_VaultRefusesTheToken_AndTheLoginBacksOff()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var kdc = await SetUpAsync(h);
        // The service's keys change after Vault was given its keytab: tickets the KDC issues no longer decrypt there.
        await kdc.RandomizeKeysAsync(MitKdc.Service);

        await h.StartGatehouseAsync(Hcl(h));
        var backoff = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        await h.WaitForLogAsync("SPNEGO authentication failed");
        Assert.Contains("error logging in at auth/kerberos/login", h.ConsoleLog, StringComparison.Ordinal);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));

        // Vault gets the service's current keytab: the next login is accepted.
        await kdc.ExportKeytabAsync(MitKdc.Service, h.PathOf("service-new.keytab"));
        await h.RootAsync(HttpMethod.Post, "auth/kerberos/config", new
        {
            keytab = Convert.ToBase64String(await File.ReadAllBytesAsync(h.PathOf("service-new.keytab"))),
            service_account = MitKdc.Service,
        });
        h.Time.Advance(backoff.Delay);
        Assert.Equal(AuthWaitReason.Expiry, (await h.NextAuthWaitAsync()).Reason);
        await h.FirstSinkWriteAsync();
        Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", Login));
        Assert.DoesNotContain("Negotiate ", h.ConsoleLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kerberos_MissingKeytabFile_IsNamedAsVaultNamesIt()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var kdc = await SetUpAsync(h);
        File.Delete(h.PathOf("client.keytab"));

        await h.StartGatehouseAsync(Hcl(h));
        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync($"couldn't load keytab: open {h.PathOf("client.keytab")}");
    }
}

/// <summary>
/// The kerberos tests run one at a time: krb5.conf reaches MIT's library through the process-wide native
/// <c>KRB5_CONFIG</c>, and each test has its own KDC and krb5.conf.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KerberosCollection
{
    public const string Name = "kerberos";
}
