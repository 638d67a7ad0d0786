using Gatehouse.AutoAuth;
using Gatehouse.AutoAuth.Methods;
using Gatehouse.IntegrationTests.Operations;
using Gatehouse.IntegrationTests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>
/// The alicloud method through the real host on the fake clock: HCL loaded as <c>gatehouse proxy</c> loads it, logging
/// in to DevVault's alicloud backend, which checks the forwarded GetCallerIdentity call's URL and RPC signature with the
/// test identity's secret as STS would. Credentials from static keys, from the ECS metadata service (role_name, and the
/// chain's fallback) and by AssumeRole (role_arn), against loopback emulators named by the Gatehouse-only keys
/// metadata_endpoint and sts_endpoint; the environment Gatehouse reads is empty unless a test sets it.
/// </summary>
public sealed class AlicloudAutoAuthEndToEndTests
{
    private static string Hcl(OpsHarness h, string config, string autoAuthExtra = "") => h.MethodHcl("alicloud", $"""
        role   = "web"
        region = "us-west-1"
        {config}
        """, autoAuthExtra);

    private static string StaticKeys(AlicloudTestIdentity identity) => $"""
        access_key    = "{identity.AccessKey}"
        access_secret = "{identity.Secret}"
        {(identity.SecurityToken is { } token ? $"access_token = \"{token}\"" : "")}
        """;

    private static Action<IServiceCollection> Environment(params (string Name, string Value)[] variables) => OpsHarness.WithEnvironment(variables);

    private static readonly Action<IServiceCollection> NoEnvironment = Environment();

    private static async Task<string> ArnOfCurrentTokenAsync(OpsHarness h) =>
        (await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token = h.Host.TokenStore.Current!.Token }))!["data"]!["meta"]!["arn"]!.ToString();

    private static void AssertNoSecretsLogged(OpsHarness h) =>
        h.AssertLogNeverShows(AlicloudTestIdentity.All.SelectMany(i => new[] { i.Secret, i.SecurityToken }));

    [Fact]
    public async Task StaticKeys_LogsInWithASignedRequest_RenewsAndLogsInAgainAfterRevocation()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await AlicloudSetup.EnableAsync(h);

        await h.StartGatehouseAsync(Hcl(h, StaticKeys(AlicloudTestIdentity.Session)), configureServices: NoEnvironment);
        var renewal = await h.NextAuthWaitAsync();
        await h.FirstSinkWriteAsync();

        Assert.Equal(AuthWaitReason.Renewal, renewal.Reason);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", AlicloudSetup.Login));
        var first = await File.ReadAllTextAsync(h.PathOf("token-sink"));
        var meta = (await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token = first }))!["data"]!["meta"]!;
        Assert.Equal(AlicloudTestIdentity.Session.Arn, meta["arn"]!.ToString());
        Assert.Equal(AlicloudTestIdentity.Account, meta["account_id"]!.ToString());
        Assert.Equal("web", meta["role_name"]!.ToString());
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        h.Time.Advance(renewal.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        Assert.Equal(first, h.Host.TokenStore.Current!.Token);

        // Revoked: one new login, freshly signed (new nonce, the advanced fake time) and accepted.
        var next = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Host.TokenStore.Published += token => next.TrySetResult(token.Token);
        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token = first });
        Assert.Equal(403, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
        Assert.NotEqual(first, await next.Task.WaitAsync(OpsHarness.Hang));
        Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", AlicloudSetup.Login));
        AssertNoSecretsLogged(h);
    }

    [Fact]
    public async Task RoleName_ReadsTheInstancesRoleKeysFromTheMetadataService_WithASessionToken()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var metadata = await EcsMetadataEmulator.StartAsync();
        await AlicloudSetup.EnableAsync(h);

        await h.StartGatehouseAsync(Hcl(h, $"role_name = \"web-role\"\nmetadata_endpoint = \"{metadata.Address}\""), configureServices: NoEnvironment);

        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        Assert.Equal(["PUT /latest/api/token", "GET /latest/meta-data/ram/security-credentials/web-role (token)"], metadata.Requests);
        Assert.Equal(AlicloudTestIdentity.Ecs.Arn, await ArnOfCurrentTokenAsync(h));
        AssertNoSecretsLogged(h);
    }

    [Fact]
    public async Task RoleArn_AssumesTheRoleWithTheAccessKey_ThenLogsInAsTheAssumedRole()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var sts = await AlicloudStsEmulator.StartAsync();
        await AlicloudSetup.EnableAsync(h);

        await h.StartGatehouseAsync(Hcl(h, StaticKeys(AlicloudTestIdentity.User) + $"""

            role_arn                = "{AlicloudTestIdentity.RoleArn}"
            role_session_name       = "gatehouse-agent"
            role_session_expiration = 900
            sts_endpoint            = "{sts.Address}"
            """), configureServices: NoEnvironment);

        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        var call = Assert.Single(sts.AssumeRoleCalls);
        Assert.Equal(("AssumeRole", "gatehouse-agent", "900"), (call["Action"], call["RoleSessionName"], call["DurationSeconds"]));
        Assert.Equal(AlicloudTestIdentity.Assumed.Arn, await ArnOfCurrentTokenAsync(h));
        AssertNoSecretsLogged(h);
    }

    /// <summary>
    /// credential_poll_interval on the fake clock with the chain's last source, the metadata service (nothing
    /// configured): when the instance's keys rotate, one new login follows with enable_reauth_on_new_credentials, and
    /// none without it (the new keys wait for the next login, as Vault).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task MetadataFallback_KeysRotate_LogsInAgainOnlyWithReauthOnNewCredentials(bool reauth)
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var metadata = await EcsMetadataEmulator.StartAsync();
        await AlicloudSetup.EnableAsync(h);
        AlicloudMethod? method = null;
        var pollerWaits = System.Threading.Channels.Channel.CreateUnbounded<bool>();

        var hcl = Hcl(h, $"credential_poll_interval = 30\nmetadata_endpoint = \"{metadata.Address}\"", reauth ? "enable_reauth_on_new_credentials = true" : "");
        await h.StartGatehouseAsync(hcl, configureServices: services => services.AddSingleton<IAuthMethod>(sp =>
        {
            var loaded = h.Load().Config!.AutoAuth!.Method;
            method = new AlicloudMethod(new MethodSettings(loaded.Config, "auto_auth.method \"alicloud\""), loaded.EffectiveMountPath, _ => null,
                h.Time, NullLogger.Instance);
            method.PollerWaiting += () => pollerWaits.Writer.TryWrite(true);
            return method;
        }));
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        await pollerWaits.Reader.ReadAsync().AsTask().WaitAsync(OpsHarness.Hang);
        Assert.Equal(TimeSpan.FromSeconds(30), method!.CredentialPollInterval);
        Assert.Contains("GET /latest/meta-data/ram/security-credentials/ (token)", metadata.Requests);
        var first = h.Host.TokenStore.Current!.Token;

        // Unchanged keys: a poll does nothing.
        h.Time.Advance(TimeSpan.FromSeconds(30));
        await pollerWaits.Reader.ReadAsync().AsTask().WaitAsync(OpsHarness.Hang);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", AlicloudSetup.Login));

        metadata.Credentials = AlicloudTestIdentity.EcsRotated;
        h.Time.Advance(TimeSpan.FromSeconds(30));
        await pollerWaits.Reader.ReadAsync().AsTask().WaitAsync(OpsHarness.Hang);
        if (reauth)
        {
            await h.WaitForLogAsync("auth method found new credentials, re-authenticating");
            Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
            Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", AlicloudSetup.Login));
            Assert.NotEqual(first, h.Host.TokenStore.Current!.Token);
            Assert.Equal(AlicloudTestIdentity.EcsRotated.Arn, await ArnOfCurrentTokenAsync(h));
        }
        else
        {
            Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", AlicloudSetup.Login));
            Assert.Equal(first, h.Host.TokenStore.Current!.Token);
            Assert.DoesNotContain("re-authenticating", h.ConsoleLog, StringComparison.Ordinal);
        }

        AssertNoSecretsLogged(h);
    }

    [Fact]
    public async Task MissingRoleAndUnboundArn_AreRefusedWithThePluginsWords_AndBackOff()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await AlicloudSetup.EnableAsync(h);

        await h.StartGatehouseAsync(Hcl(h, StaticKeys(AlicloudTestIdentity.Session)).Replace("role   = \"web\"", "role   = \"missing\"", StringComparison.Ordinal),
            configureServices: NoEnvironment);
        var backoff = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        await h.WaitForLogAsync("entry for role missing not found");
        h.Time.Advance(backoff.Delay);
        var second = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, second.Reason);
        Assert.True(second.Delay > backoff.Delay);
        await h.StopGatehouseAsync();

        await h.RootAsync(HttpMethod.Post, "auth/alicloud/role/web", new { arn = $"acs:ram::{AlicloudTestIdentity.Account}:role/other-role", policies = "all" });
        await h.StartGatehouseAsync(Hcl(h, StaticKeys(AlicloudTestIdentity.Session)), configureServices: NoEnvironment);
        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync("the caller's arn does not match the role's arn");
    }

    [Fact]
    public async Task ExpiredKeysAndAWrongSecret_GetStsErrors_ThenGoodKeysLogIn()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await AlicloudSetup.EnableAsync(h);

        await h.StartGatehouseAsync(Hcl(h, StaticKeys(AlicloudTestIdentity.ExpiredSession)), configureServices: NoEnvironment);
        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync("error making upstream request: received 400 checking caller identity: ");
        await h.WaitForLogAsync("InvalidSecurityToken.Expired");
        await h.StopGatehouseAsync();

        await h.StartGatehouseAsync(Hcl(h, StaticKeys(AlicloudTestIdentity.Session with { Secret = "not-the-secret" })), configureServices: NoEnvironment);
        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync("SignatureDoesNotMatch");
        await h.StopGatehouseAsync();

        // The environment comes first in Vault's chain: good keys there win over the config's.
        await h.StartGatehouseAsync(Hcl(h, StaticKeys(AlicloudTestIdentity.ExpiredSession)), configureServices: Environment(
            ("ALICLOUD_ACCESS_KEY", AlicloudTestIdentity.Session.AccessKey), ("ALICLOUD_SECRET_KEY", AlicloudTestIdentity.Session.Secret),
            ("ALICLOUD_ACCESS_KEY_STS_TOKEN", AlicloudTestIdentity.Session.SecurityToken!)));
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        AssertNoSecretsLogged(h);
    }

    [Fact]
    public async Task MetadataServiceUnreachable_BacksOffWithAClearMessage_WithoutAskingVault()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await AlicloudSetup.EnableAsync(h);
        var dead = await TestUpstream.StartAsync();
        var deadAddress = dead.Address;
        await dead.DisposeAsync();

        await h.StartGatehouseAsync(Hcl(h, $"role_name = \"web-role\"\nmetadata_endpoint = \"{deadAddress}\""), configureServices: NoEnvironment);
        var backoff = await h.NextAuthWaitAsync();

        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        await h.WaitForLogAsync($"error creating login value: refresh Ecs sts token err: the ECS metadata service at {deadAddress} is unreachable");
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", AlicloudSetup.Login));
        h.Time.Advance(backoff.Delay);
        var second = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, second.Reason);
        Assert.True(second.Delay > backoff.Delay);
    }

    [Fact]
    public async Task ARamUsersOwnKey_IsRefusedByVault_WhichTakesAssumedRolesOnly()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await AlicloudSetup.EnableAsync(h);

        await h.StartGatehouseAsync(Hcl(h, StaticKeys(AlicloudTestIdentity.User)), configureServices: NoEnvironment);

        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync($"unable to parse entity's arn {AlicloudTestIdentity.User.Arn} due to unsupported parsed type: user");
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", AlicloudSetup.Login));
    }

    /// <summary>
    /// DevVault's stubbed STS as Alibaba's: a signature made 20 minutes ago (by Gatehouse's own signer on an earlier
    /// clock) is refused, a replayed nonce is refused, and a URL naming another host never reaches STS.
    /// </summary>
    [Fact]
    public async Task DevVault_RefusesAStaleTimestamp_AReplayedNonce_AndAnotherHost()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await AlicloudSetup.EnableAsync(h);
        async Task<IReadOnlyDictionary<string, string>> SignedAtAsync(DateTimeOffset at)
        {
            var values = System.Collections.Immutable.ImmutableDictionary<string, Hcl.HclNode>.Empty
                .Add("role", new Hcl.HclString("web", default)).Add("region", new Hcl.HclString("us-west-1", default))
                .Add("access_key", new Hcl.HclString(AlicloudTestIdentity.Session.AccessKey, default))
                .Add("access_secret", new Hcl.HclString(AlicloudTestIdentity.Session.Secret, default))
                .Add("access_token", new Hcl.HclString(AlicloudTestIdentity.Session.SecurityToken!, default));
            var method = new AlicloudMethod(new MethodSettings(new Gatehouse.Configuration.ConfigMap(values, default), "m"), "auth/alicloud",
                _ => null, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(at), NullLogger.Instance);
            return (await method.PrepareLoginAsync(null!, CancellationToken.None)).Body!;
        }

        var stale = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await h.RootAsync(HttpMethod.Post, "auth/alicloud/login", await SignedAtAsync(h.Time.GetUtcNow().AddMinutes(-20))));
        Assert.Contains("InvalidTimeStamp.Expired", stale.Message, StringComparison.Ordinal);

        var fresh = await SignedAtAsync(h.Time.GetUtcNow());
        Assert.Equal(AlicloudTestIdentity.Session.Arn, (await h.RootAsync(HttpMethod.Post, "auth/alicloud/login", fresh))!["auth"]!["metadata"]!["arn"]!.ToString());
        var replay = await Assert.ThrowsAsync<InvalidOperationException>(() => h.RootAsync(HttpMethod.Post, "auth/alicloud/login", fresh));
        Assert.Contains("SignatureNonceUsed", replay.Message, StringComparison.Ordinal);

        var elsewhere = new Dictionary<string, string>(await SignedAtAsync(h.Time.GetUtcNow()));
        var url = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(elsewhere["identity_request_url"]));
        elsewhere["identity_request_url"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(
            url.Replace("sts.us-west-1.aliyuncs.com", "sts.attacker.example", StringComparison.Ordinal)));
        var host = await Assert.ThrowsAsync<InvalidOperationException>(() => h.RootAsync(HttpMethod.Post, "auth/alicloud/login", elsewhere));
        Assert.Contains("500", host.Message, StringComparison.Ordinal);
        Assert.Contains("error making upstream request: expected host of ", host.Message, StringComparison.Ordinal);
        Assert.Contains("sts.us-west-1.aliyuncs.com", host.Message, StringComparison.Ordinal);
        Assert.Contains("but received ", host.Message, StringComparison.Ordinal);
    }
}
