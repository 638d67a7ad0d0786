using System.Security.Cryptography;
using Gatehouse.AutoAuth;
using Gatehouse.AutoAuth.Methods;
using Gatehouse.IntegrationTests.Operations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>
/// The oci method (type apikey) through the real host on the fake clock: HCL loaded as <c>gatehouse proxy</c> loads
/// it, the API key read from <c>~/.oci/config</c> under a test HOME, logging in to DevVault's oci backend, which
/// rebuilds the signing string from the forwarded headers and verifies the RSA-SHA256 signature with the public key
/// registered for the key id, and checks the Date against its (shared, fake) clock.
/// </summary>
public sealed class OciAutoAuthEndToEndTests
{
    private const string Tenancy = "ocid1.tenancy.oc1..gatehouse";
    private const string User = "ocid1.user.oc1..ci";
    private const string Group = "ocid1.group.oc1..vault-users";
    private const string Login = "/v1/auth/oci/login/web";

    private static string Hcl(OpsHarness h, string config, string autoAuthExtra = "") => h.MethodHcl("oci", config, autoAuthExtra);

    private const string ApiKey = "type = \"apikey\"\nrole = \"web\"";

    private static string Home(OpsHarness h) => h.PathOf("home");

    private static Action<IServiceCollection> Environment(OpsHarness h) =>
        services => services.AddSingleton(new AutoAuthEnvironment(name => name == "HOME" ? Home(h) : null));

    /// <summary>Enables auth/oci with role "web" (10 minute tokens) bound to <paramref name="group"/>.</summary>
    private static async Task EnableAsync(OpsHarness h, string group = Group)
    {
        await h.RootAsync(HttpMethod.Post, "sys/auth/oci", new { type = "oci" });
        await h.RootAsync(HttpMethod.Post, "auth/oci/config", new { home_tenancy_id = Tenancy });
        await h.RootAsync(HttpMethod.Post, "auth/oci/role/web", new { ocid_list = group, token_policies = "all", token_ttl = "10m" });
    }

    /// <summary>Registers <paramref name="key"/> under fingerprint <paramref name="fingerprint"/> with DevVault's identity emulator.</summary>
    private static Task RegisterAsync(OpsHarness h, RSA key, string fingerprint) =>
        h.RootAsync(HttpMethod.Post, "auth/oci/dev-api-keys", new
        {
            key_id = $"{Tenancy}/{User}/{fingerprint}", public_key = key.ExportSubjectPublicKeyInfoPem(), groups = new[] { Group },
        });

    /// <summary>Writes the key (PKCS#8 encrypted with a passphrase) and <c>~/.oci/config</c> naming it as <c>~/.oci/&lt;name&gt;</c>.</summary>
    private static async Task WriteApiKeyAsync(OpsHarness h, RSA key, string fingerprint, string name = "key.pem")
    {
        var dir = Path.Combine(Home(h), ".oci");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, name), key.ExportEncryptedPkcs8PrivateKeyPem("key-passphrase",
            new PbeParameters(PbeEncryptionAlgorithm.Aes128Cbc, HashAlgorithmName.SHA256, 1000)));
        await File.WriteAllTextAsync(Path.Combine(dir, "config"), $"""
            [DEFAULT]
            user = {User}
            fingerprint = {fingerprint}
            key_file = ~/.oci/{name}
            pass_phrase = key-passphrase
            tenancy = {Tenancy}
            region = eu-frankfurt-1

            """);
    }

    private static void AssertNoSecretsLogged(OpsHarness h)
    {
        Assert.DoesNotContain("key-passphrase", h.ConsoleLog, StringComparison.Ordinal);
        Assert.DoesNotContain("ST$", h.ConsoleLog, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", h.ConsoleLog, StringComparison.Ordinal);
        Assert.DoesNotContain("signature=", h.ConsoleLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApiKey_LogsInWithASignedRequest_AndLogsInAgainBeforeTheNonRenewableTokenExpires()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await EnableAsync(h);
        using var key = RSA.Create(2048);
        await RegisterAsync(h, key, "aa:01");
        await WriteApiKeyAsync(h, key, "aa:01");

        await h.StartGatehouseAsync(Hcl(h, ApiKey), configureServices: Environment(h));
        var expiry = await h.NextAuthWaitAsync();
        await h.FirstSinkWriteAsync();

        // The plugin's tokens are not renewable: the loop waits for the token's end, then logs in afresh.
        Assert.Equal(AuthWaitReason.Expiry, expiry.Reason);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
        var first = await File.ReadAllTextAsync(h.PathOf("token-sink"));
        var lookup = (await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token = first }))!["data"]!;
        Assert.Equal("web", lookup["meta"]!["role_name"]!.ToString());
        Assert.False(lookup["renewable"]!.GetValue<bool>());
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        // Signed again at the advanced fake time: DevVault's date window (same clock) accepts it.
        h.Time.Advance(expiry.Delay);
        Assert.Equal(AuthWaitReason.Expiry, (await h.NextAuthWaitAsync()).Reason);
        Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", Login));
        Assert.NotEqual(first, h.Host.TokenStore.Current!.Token);
        AssertNoSecretsLogged(h);
    }

    /// <summary>
    /// credential_poll_interval on the fake clock: the poller reads ~/.oci/config again; when the key id (a new
    /// fingerprint after a key rotation) changes, one new login follows with the new key when
    /// enable_reauth_on_new_credentials is set. Without it, nothing happens until the next login (as Vault).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ApiKey_KeyRotates_LogsInAgainWithTheNewKeyOnlyWithReauthOnNewCredentials(bool reauth)
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await EnableAsync(h);
        using var oldKey = RSA.Create(2048);
        using var newKey = RSA.Create(2048);
        await RegisterAsync(h, oldKey, "aa:01");
        await RegisterAsync(h, newKey, "bb:02");
        await WriteApiKeyAsync(h, oldKey, "aa:01");
        OciMethod? method = null;
        var pollerWaits = System.Threading.Channels.Channel.CreateUnbounded<bool>();

        var hcl = Hcl(h, ApiKey + "\ncredential_poll_interval = \"30s\"", reauth ? "enable_reauth_on_new_credentials = true" : "");
        await h.StartGatehouseAsync(hcl, configureServices: services => services.AddSingleton<IAuthMethod>(sp =>
        {
            var loaded = h.Load().Config!.AutoAuth!.Method;
            method = new OciMethod(new MethodSettings(loaded.Config, "auto_auth.method \"oci\""), loaded.EffectiveMountPath,
                name => name == "HOME" ? Home(h) : null, h.Time, sp.GetRequiredService<ILoggerFactory>().CreateLogger<OciMethod>());
            method.PollerWaiting += () => pollerWaits.Writer.TryWrite(true);
            return method;
        }));
        Assert.Equal(AuthWaitReason.Expiry, (await h.NextAuthWaitAsync()).Reason);
        await pollerWaits.Reader.ReadAsync().AsTask().WaitAsync(OpsHarness.Hang);
        Assert.Equal(TimeSpan.FromSeconds(30), method!.CredentialPollInterval);
        var first = h.Host.TokenStore.Current!.Token;

        // Unchanged key id: a poll does nothing.
        h.Time.Advance(TimeSpan.FromSeconds(30));
        await pollerWaits.Reader.ReadAsync().AsTask().WaitAsync(OpsHarness.Hang);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));

        await WriteApiKeyAsync(h, newKey, "bb:02", "key-2.pem");
        h.Time.Advance(TimeSpan.FromSeconds(30));
        await pollerWaits.Reader.ReadAsync().AsTask().WaitAsync(OpsHarness.Hang);
        if (reauth)
        {
            await h.WaitForLogAsync("auth method found new credentials, re-authenticating");
            Assert.Equal(AuthWaitReason.Expiry, (await h.NextAuthWaitAsync()).Reason);
            Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", Login));
            Assert.NotEqual(first, h.Host.TokenStore.Current!.Token);
            await h.WaitForLogAsync($"oci: new credentials detected (key id {Tenancy}/{User}/bb:02)");
        }
        else
        {
            Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
            Assert.Equal(first, h.Host.TokenStore.Current!.Token);
            Assert.DoesNotContain("re-authenticating", h.ConsoleLog, StringComparison.Ordinal);
        }

        AssertNoSecretsLogged(h);
    }

    [Fact]
    public async Task ApiKey_UnregisteredKeyMissingRoleAndMissingKeyFile_AreRefusedWithClearMessages_AndBackOff()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await EnableAsync(h);
        using var key = RSA.Create(2048);
        await RegisterAsync(h, key, "aa:01");

        // No ~/.oci/config at all.
        await h.StartGatehouseAsync(Hcl(h, ApiKey), configureServices: Environment(h));
        var backoff = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        await h.WaitForLogAsync("did not find a proper configuration for key id");
        await h.WaitForLogAsync("write tenancy, user, fingerprint and key_file under [DEFAULT] in ~/.oci/config");

        // The config names a key file that is not there: the next attempt (after the backoff) says which file.
        await WriteApiKeyAsync(h, key, "aa:01");
        File.Delete(Path.Combine(Home(h), ".oci", "key.pem"));
        h.Time.Advance(backoff.Delay);
        var second = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, second.Reason);
        Assert.True(second.Delay > backoff.Delay);
        await h.WaitForLogAsync($"{Path.Combine(Home(h), ".oci", "key.pem")} can not be read");
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", Login));
        await h.StopGatehouseAsync();

        // A key the identity service does not know.
        using var stranger = RSA.Create(2048);
        await WriteApiKeyAsync(h, stranger, "ff:ff");
        await h.StartGatehouseAsync(Hcl(h, ApiKey), configureServices: Environment(h));
        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync("OCI authentication failed");
        await h.StopGatehouseAsync();

        // A role Vault does not have.
        await WriteApiKeyAsync(h, key, "aa:01");
        await h.StartGatehouseAsync(Hcl(h, "type = \"apikey\"\nrole = \"missing\""), configureServices: Environment(h));
        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync("Role is not found");
        AssertNoSecretsLogged(h);
    }

    private const string Instance = "type = \"instance\"\nrole = \"web\"";

    private const string DynamicGroup = "ocid1.dynamicgroup.oc1..instances";

    /// <summary>Enables auth/oci (role "web" bound to <see cref="DynamicGroup"/>) and registers the emulator's token key with the instances' group.</summary>
    private static async Task EnableInstanceAsync(OpsHarness h, OciInstanceEmulator oci)
    {
        await EnableAsync(h, DynamicGroup);
        await h.RootAsync(HttpMethod.Post, "auth/oci/dev-token-keys", new { public_key = oci.TokenKey.ExportSubjectPublicKeyInfoPem(), groups = new[] { DynamicGroup } });
    }

    private static Action<IServiceCollection> InstanceEnvironment(Func<string, string?> environment) =>
        services => services.AddSingleton(new AutoAuthEnvironment(environment));

    /// <summary>
    /// Instance principals: leaf certificate, key and intermediate from the metadata emulator, a security token from
    /// the federation emulator, the login signed with the session key (ST$ keyId) and checked by DevVault. The token
    /// (30 minutes) is reused for the logins that come while it has more than 5 minutes left, then renewed.
    /// </summary>
    [Fact]
    public async Task Instance_LogsInWithASecurityToken_ReusesItUntilNearItsExpiry_ThenFederatesAgain()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var oci = await OciInstanceEmulator.StartAsync(Tenancy, h.Time);
        await EnableInstanceAsync(h, oci);
        var start = h.Time.GetUtcNow();

        await h.StartGatehouseAsync(Hcl(h, Instance), configureServices: InstanceEnvironment(oci.Environment));
        var expiry = await h.NextAuthWaitAsync();
        await h.FirstSinkWriteAsync();
        Assert.Equal(AuthWaitReason.Expiry, expiry.Reason);
        Assert.Equal(1, oci.Federations);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", Login));
        var lookup = (await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token = h.Host.TokenStore.Current!.Token }))!["data"]!;
        Assert.Equal("web", lookup["meta"]!["role_name"]!.ToString());
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        // Vault's tokens last 10 minutes: each re-login reuses the security token while it has more than 5 minutes left.
        var sawRenewal = false;
        for (var login = 2; login <= 5; login++)
        {
            h.Time.Advance(expiry.Delay);
            expiry = await h.NextAuthWaitAsync();
            Assert.Equal(AuthWaitReason.Expiry, expiry.Reason);
            Assert.Equal(login, h.Vault.Faults.CountRequests("PUT", Login));
            var elapsed = h.Time.GetUtcNow() - start;
            var expected = elapsed >= oci.TokenLifetime - TimeSpan.FromMinutes(5) ? 2 : 1;
            Assert.Equal(expected, oci.Federations);
            sawRenewal |= expected == 2;
            if (elapsed >= 2 * oci.TokenLifetime - TimeSpan.FromMinutes(10))
            {
                break;
            }
        }

        Assert.True(sawRenewal);
        AssertNoSecretsLogged(h);
    }

    [Fact]
    public async Task Instance_MetadataUnreachable_FailsNamingTheServiceAndBacksOff()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var oci = await OciInstanceEmulator.StartAsync(Tenancy, h.Time);
        await EnableInstanceAsync(h, oci);
        var closed = Gatehouse.IntegrationTests.Support.MitKdc.FreePort();
        var metadata = $"http://127.0.0.1:{closed}/opc/v2";

        await h.StartGatehouseAsync(Hcl(h, Instance), configureServices: InstanceEnvironment(name =>
            name == "OCI_METADATA_BASE_URL" ? metadata : oci.Environment(name)));
        var first = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, first.Reason);
        await h.WaitForLogAsync($"instance principal: failed to get instance/region from the instance metadata service at {metadata}");
        h.Time.Advance(first.Delay);
        var second = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, second.Reason);
        Assert.True(second.Delay > first.Delay);
        Assert.Equal(0, oci.Federations);
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", Login));
    }

    [Fact]
    public async Task Instance_FederationRefusedOrTokenUnknownToVault_AreClearFailures()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var oci = await OciInstanceEmulator.StartAsync(Tenancy, h.Time);
        await EnableInstanceAsync(h, oci);

        // The federation endpoint refuses: no login is sent.
        oci.Refuse = true;
        await h.StartGatehouseAsync(Hcl(h, Instance), configureServices: InstanceEnvironment(oci.Environment));
        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync($"failed to get a security token from {oci.Address}/v1/x509: 401");
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", Login));
        await h.StopGatehouseAsync();

        // A token signed by a key Vault's identity service does not know.
        oci.Refuse = false;
        await using var stranger = await OciInstanceEmulator.StartAsync(Tenancy, h.Time);
        await h.StartGatehouseAsync(Hcl(h, Instance), configureServices: InstanceEnvironment(stranger.Environment));
        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync("OCI authentication failed");
        Assert.Equal(1, stranger.Federations);
        AssertNoSecretsLogged(h);
    }
}
