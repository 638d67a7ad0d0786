using System.Collections.Immutable;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;
using Gatehouse.AutoAuth;
using Gatehouse.AutoAuth.Methods;
using Gatehouse.Configuration;
using Gatehouse.IntegrationTests.Operations;
using Gatehouse.IntegrationTests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>
/// The aws method through the real host on the fake clock: HCL loaded as <c>gatehouse proxy</c> loads it, logging in
/// to DevVault's aws backend, which checks the SigV4 signature of the forwarded GetCallerIdentity request with the
/// test identity's secret key as STS would (iam), or the instance identity document's signature and the nonce (ec2,
/// through a loopback IMDSv2 emulator). The credential chain's sources that live in the process environment are
/// covered by <see cref="AwsCredentialChainProcessTests"/>, which runs the real executable.
/// </summary>
public sealed class AwsAutoAuthEndToEndTests
{
    private static string Hcl(OpsHarness h, string config, string autoAuthExtra = "") => h.MethodHcl("aws", config, autoAuthExtra);

    private static string StaticKeys(AwsTestIdentity identity, string extra = "") => $"""
        type       = "iam"
        role       = "web"
        access_key = "{identity.AccessKey}"
        secret_key = "{identity.SecretKey}"
        {(identity.SessionToken is { } token ? $"session_token = \"{token}\"" : "")}
        {extra}
        """;

    private static Action<IServiceCollection> Environment(params (string Name, string Value)[] variables) => OpsHarness.WithEnvironment(variables);

    private static void AssertNoSecretsLogged(OpsHarness h, params AwsTestIdentity[] identities) =>
        h.AssertLogNeverShows(identities.SelectMany(i => new[] { i.SecretKey, i.SessionToken }));

    [Fact]
    public async Task Iam_WithStaticKeysAndServerId_LogsInWithASignedRequest_RenewsAndLogsInAgainAfterRevocation()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await AwsSetup.EnableAsync(h, serverId: "vault.example.com");

        await h.StartGatehouseAsync(Hcl(h, StaticKeys(AwsTestIdentity.RoleSession, "header_value = \"vault.example.com\"")));
        var renewal = await h.NextAuthWaitAsync();
        await h.FirstSinkWriteAsync();

        Assert.Equal(AuthWaitReason.Renewal, renewal.Reason);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", AwsSetup.Login));
        var first = await File.ReadAllTextAsync(h.PathOf("token-sink"));
        var meta = (await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token = first }))!["data"]!["meta"]!;
        Assert.Equal("arn:aws:sts::123456789012:assumed-role/web-role/i-0abc", meta["client_arn"]!.ToString());
        Assert.Equal("arn:aws:iam::123456789012:role/web-role", meta["canonical_arn"]!.ToString());
        Assert.Equal(200, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);

        h.Time.Advance(renewal.Delay);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        Assert.Equal(first, h.Host.TokenStore.Current!.Token);

        // Revoked: one new login, freshly signed at the (advanced) fake time.
        var next = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Host.TokenStore.Published += token => next.TrySetResult(token.Token);
        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token = first });
        Assert.Equal(403, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
        Assert.NotEqual(first, await next.Task.WaitAsync(OpsHarness.Hang));
        Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", AwsSetup.Login));
        AssertNoSecretsLogged(h, AwsTestIdentity.RoleSession);
    }

    [Fact]
    public async Task Iam_WrongServerIdHeader_IsRefusedWithVaultsWords_AndBacksOff()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await AwsSetup.EnableAsync(h, serverId: "vault.example.com");

        await h.StartGatehouseAsync(Hcl(h, StaticKeys(AwsTestIdentity.User, "header_value = \"vault.other.com\"")));
        var backoff = await h.NextAuthWaitAsync();

        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        await h.WaitForLogAsync("error validating X-Vault-AWS-IAM-Server-ID header: expected \"vault.example.com\" but got \"vault.other.com\"");
        h.Time.Advance(backoff.Delay);
        var second = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, second.Reason);
        Assert.True(second.Delay > backoff.Delay);
    }

    [Fact]
    public async Task Iam_BadSecretKeyAndExpiredCredentials_GetStsErrors_ThenLogsInWithGoodOnes()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        var expired = AwsTestIdentity.RoleSession with { AccessKey = "ASIAGATEHOUSEEXPIRED", Expired = true };
        await AwsSetup.EnableAsync(h, null, AwsTestIdentity.User, expired);
        var wrongSecret = AwsTestIdentity.User with { SecretKey = "not-the-secret-key" };

        await h.StartGatehouseAsync(Hcl(h, StaticKeys(wrongSecret)));
        var backoff = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        await h.WaitForLogAsync("received error code 403 from STS: <ErrorResponse");
        await h.WaitForLogAsync("<Code>SignatureDoesNotMatch</Code>");
        await h.StopGatehouseAsync();

        await h.StartGatehouseAsync(Hcl(h, StaticKeys(expired)));
        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync("<Code>ExpiredToken</Code>");
        await h.StopGatehouseAsync();

        await h.StartGatehouseAsync(Hcl(h, StaticKeys(AwsTestIdentity.User)));
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        AssertNoSecretsLogged(h, wrongSecret, expired, AwsTestIdentity.User);
    }

    [Fact]
    public async Task Iam_MissingRoleAndUnboundPrincipal_AreRefusedWithVaultsWords()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await AwsSetup.EnableAsync(h);

        await h.StartGatehouseAsync(Hcl(h, StaticKeys(AwsTestIdentity.User).Replace("role       = \"web\"", "role = \"missing\"", StringComparison.Ordinal)));
        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync("entry for role \"missing\" not found");
        await h.StopGatehouseAsync();

        await h.RootAsync(HttpMethod.Post, "auth/aws/role/web", new { auth_type = "iam", policies = "all", bound_iam_principal_arn = new[] { "arn:aws:iam::123456789012:role/other" } });
        await h.StartGatehouseAsync(Hcl(h, StaticKeys(AwsTestIdentity.User)));
        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync("IAM Principal \"arn:aws:iam::123456789012:user/ci-runner\" does not belong to the role \"web\"");
    }

    /// <summary>
    /// credential_poll_interval on the fake clock with enable_reauth_on_new_credentials: the poller reads a shared
    /// credentials file through the AWS SDK's own profile reader; when the file's keys change, one new login follows
    /// with the new keys. Without the setting, nothing happens until the next login (as Vault).
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Iam_CredentialsRotate_LogsInAgainOnlyWithReauthOnNewCredentials(bool reauth)
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await AwsSetup.EnableAsync(h);
        var file = h.PathOf("credentials");
        await WriteCredentialsFileAsync(file, AwsTestIdentity.RoleSession);
        AwsMethod? method = null;
        var pollerWaits = System.Threading.Channels.Channel.CreateUnbounded<bool>();

        var hcl = Hcl(h, "type = \"iam\"\nrole = \"web\"\ncredential_poll_interval = 30", reauth ? "enable_reauth_on_new_credentials = true" : "");
        await h.StartGatehouseAsync(hcl, configureServices: services => services.AddSingleton<IAuthMethod>(sp =>
        {
            var loaded = h.Load().Config!.AutoAuth!.Method;
            method = new AwsMethod(new MethodSettings(loaded.Config, "auto_auth.method \"aws\""), loaded.EffectiveMountPath, _ => null,
                h.Time, NullLogger.Instance, _ => Task.FromResult(ReadProfile(file)));
            method.PollerWaiting += () => pollerWaits.Writer.TryWrite(true);
            return method;
        }));
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        await pollerWaits.Reader.ReadAsync().AsTask().WaitAsync(OpsHarness.Hang);
        Assert.Equal(TimeSpan.FromSeconds(30), method!.CredentialPollInterval);
        var first = h.Host.TokenStore.Current!.Token;

        // Unchanged credentials: a poll does nothing.
        h.Time.Advance(TimeSpan.FromSeconds(30));
        await pollerWaits.Reader.ReadAsync().AsTask().WaitAsync(OpsHarness.Hang);
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", AwsSetup.Login));

        await WriteCredentialsFileAsync(file, AwsTestIdentity.Rotated);
        h.Time.Advance(TimeSpan.FromSeconds(30));
        await pollerWaits.Reader.ReadAsync().AsTask().WaitAsync(OpsHarness.Hang);
        if (reauth)
        {
            await h.WaitForLogAsync("auth method found new credentials, re-authenticating");
            Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
            Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", AwsSetup.Login));
            Assert.NotEqual(first, h.Host.TokenStore.Current!.Token);
            var lookup = (await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token = h.Host.TokenStore.Current!.Token }))!;
            Assert.Equal("arn:aws:sts::123456789012:assumed-role/web-role/i-0abc", lookup["data"]!["meta"]!["client_arn"]!.ToString());
        }
        else
        {
            Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", AwsSetup.Login));
            Assert.Equal(first, h.Host.TokenStore.Current!.Token);
            Assert.DoesNotContain("re-authenticating", h.ConsoleLog, StringComparison.Ordinal);
        }

        AssertNoSecretsLogged(h, AwsTestIdentity.RoleSession, AwsTestIdentity.Rotated);
    }

    private static Task WriteCredentialsFileAsync(string path, AwsTestIdentity identity) => File.WriteAllTextAsync(path, $"""
        [default]
        aws_access_key_id = {identity.AccessKey}
        aws_secret_access_key = {identity.SecretKey}
        aws_session_token = {identity.SessionToken}

        """);

    private static ImmutableCredentials ReadProfile(string path)
    {
        var file = new SharedCredentialsFile(path);
        Assert.True(file.TryGetProfile("default", out var profile));
        Assert.True(AWSCredentialsFactory.TryGetAWSCredentials(profile, file, out var credentials));
        return credentials.GetCredentials();
    }

    [Fact]
    public async Task Ec2_LogsInWithTheSignedIdentityDocument_OverImdsV2_KeepsItsNonce_AndARestartIsRefused()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var imds = await ImdsEmulator.StartAsync();
        await AwsSetup.EnableAsync(h);
        await AwsSetup.AddEc2RoleAsync(h, imds);
        var env = Environment((AwsMethod.ImdsEndpointVariable, imds.Address));

        await h.StartGatehouseAsync(Hcl(h, "type = \"ec2\"\nrole = \"ec2-web\""), configureServices: env);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        Assert.Equal(0, imds.Unauthorized);
        Assert.Equal(
            ["PUT /latest/api/token", "GET /latest/dynamic/instance-identity/document (token)", "GET /latest/dynamic/instance-identity/signature (token)"],
            imds.Requests);
        var first = h.Host.TokenStore.Current!.Token;
        var meta = (await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token = first }))!["data"]!["meta"]!;
        Assert.Equal("i-0abc", meta["instance_id"]!.ToString());
        Assert.Equal("ami-0gatehouse", meta["ami_id"]!.ToString());
        Assert.Null(meta["nonce"]);

        // A new login of the same process sends the same nonce: accepted.
        var next = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Host.TokenStore.Published += token => next.TrySetResult(token.Token);
        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token = first });
        Assert.Equal(403, (await h.SendAsync(HttpMethod.Get, "/v1/secret/db")).Status);
        Assert.NotEqual(first, await next.Task.WaitAsync(OpsHarness.Hang));
        Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", AwsSetup.Login));

        // A restarted Gatehouse makes a new nonce, as Vault Agent does: Vault refuses the instance's reauthentication.
        await h.StopGatehouseAsync();
        await h.StartGatehouseAsync(Hcl(h, "type = \"ec2\"\nrole = \"ec2-web\""), configureServices: env);
        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync("client nonce mismatch");
    }

    [Fact]
    public async Task Ec2_ConfiguredNonce_FallsBackToImdsV1WhenTokensAreRefused()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var imds = await ImdsEmulator.StartAsync();
        imds.TokensSupported = false;
        await AwsSetup.EnableAsync(h);
        await AwsSetup.AddEc2RoleAsync(h, imds);

        await h.StartGatehouseAsync(Hcl(h, "type = \"ec2\"\nrole = \"ec2-web\"\nnonce = \"my-nonce\""),
            configureServices: Environment((AwsMethod.ImdsEndpointVariable, imds.Address)));
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextAuthWaitAsync()).Reason);
        Assert.Equal(
            ["PUT /latest/api/token", "GET /latest/dynamic/instance-identity/document", "GET /latest/dynamic/instance-identity/signature"],
            imds.Requests);

        // The configured nonce is the one Vault recorded: a login with it from elsewhere is accepted too.
        var again = await h.RootAsync(HttpMethod.Post, "auth/aws/login", new
        {
            role = "ec2-web", nonce = "my-nonce", pkcs7 = imds.Pkcs7(),
        });
        Assert.Equal("i-0abc", again!["auth"]!["metadata"]!["instance_id"]!.ToString());
    }

    [Fact]
    public async Task Ec2_ImdsUnreachable_BacksOffWithAClearMessage_AndAnUnboundAmiIsRefused()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await using var imds = await ImdsEmulator.StartAsync();
        await AwsSetup.EnableAsync(h);
        await AwsSetup.AddEc2RoleAsync(h, imds);
        var dead = await TestUpstream.StartAsync();
        var deadAddress = dead.Address;
        await dead.DisposeAsync();

        await h.StartGatehouseAsync(Hcl(h, "type = \"ec2\"\nrole = \"ec2-web\""), configureServices: Environment((AwsMethod.ImdsEndpointVariable, deadAddress)));
        var backoff = await h.NextAuthWaitAsync();
        Assert.Equal(AuthWaitReason.LoginBackoff, backoff.Reason);
        await h.WaitForLogAsync($"error requesting doc: the instance metadata service at {deadAddress} is unreachable");
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", AwsSetup.Login));
        await h.StopGatehouseAsync();

        imds.ImageId = "ami-0other";
        await h.StartGatehouseAsync(Hcl(h, "type = \"ec2\"\nrole = \"ec2-web\""), configureServices: Environment((AwsMethod.ImdsEndpointVariable, imds.Address)));
        Assert.Equal(AuthWaitReason.LoginBackoff, (await h.NextAuthWaitAsync()).Reason);
        await h.WaitForLogAsync("AMI ID \"ami-0other\" does not belong to role \"ec2-web\"");
    }

    [Fact]
    public async Task Iam_LoginBody_IsVaultsShape_SignedForTheRegionsStsEndpoint()
    {
        var values = new Dictionary<string, Hcl.HclNode>
        {
            ["type"] = new Hcl.HclString("iam", default), ["role"] = new Hcl.HclString("web", default),
            ["region"] = new Hcl.HclString("eu-central-2", default), ["header_value"] = new Hcl.HclString("vault.example.com", default),
            ["access_key"] = new Hcl.HclString(AwsTestIdentity.User.AccessKey, default), ["secret_key"] = new Hcl.HclString(AwsTestIdentity.User.SecretKey, default),
        };
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 36, 0, TimeSpan.Zero));
        var method = new AwsMethod(new MethodSettings(new ConfigMap(values.ToImmutableDictionary(), default), "auto_auth.method \"aws\""),
            "auth/aws-prod", _ => null, time, NullLogger.Instance);

        var request = await method.PrepareLoginAsync(null!, CancellationToken.None);

        Assert.Null(request.Error);
        Assert.Equal("auth/aws-prod/login", request.LoginPath);
        var body = request.Body!;
        Assert.Equal("web", body["role"]);
        Assert.Equal("POST", body["iam_http_request_method"]);
        Assert.Equal("https://sts.eu-central-2.amazonaws.com/", Encoding.UTF8.GetString(Convert.FromBase64String(body["iam_request_url"])));
        Assert.Equal("Action=GetCallerIdentity&Version=2011-06-15", Encoding.UTF8.GetString(Convert.FromBase64String(body["iam_request_body"])));
        var headers = JsonNode.Parse(Convert.FromBase64String(body["iam_request_headers"]))!.AsObject();
        Assert.Equal(["vault.example.com"], headers["X-Vault-Aws-Iam-Server-Id"]!.AsArray().Select(v => v!.ToString()));
        Assert.Equal("20261207T123600Z", headers["X-Amz-Date"]![0]!.ToString());
        var authorization = headers["Authorization"]![0]!.ToString();
        Assert.StartsWith($"AWS4-HMAC-SHA256 Credential={AwsTestIdentity.User.AccessKey}/20261207/eu-central-2/sts/aws4_request, ", authorization, StringComparison.Ordinal);
        Assert.Contains("x-vault-aws-iam-server-id", authorization, StringComparison.Ordinal);
        Assert.Null(headers["X-Amz-Security-Token"]);
        Assert.DoesNotContain(AwsTestIdentity.User.SecretKey, request.ToString(), StringComparison.Ordinal);
    }
}
