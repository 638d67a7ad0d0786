using System.Collections.Immutable;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Gatehouse.AutoAuth;
using Gatehouse.AutoAuth.Methods;
using Gatehouse.Configuration;
using Gatehouse.Hcl;
using Gatehouse.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.AutoAuth.Methods;

/// <summary>
/// The alicloud method's credential chain (alibaba-cloud-sdk-go's env → config → instance metadata providers), the
/// login body (the signed GetCallerIdentity call as Vault's tools.GenerateLoginData captures it), and the session
/// calls (AssumeRole, the ECS metadata service) against a scripted handler.
/// </summary>
public sealed class AlicloudMethodTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 36, 0, TimeSpan.Zero);

    private static AlicloudMethod Method(Dictionary<string, string>? environment = null, HttpMessageHandler? handler = null,
        params (string Key, object Value)[] extra)
    {
        var values = ImmutableDictionary<string, HclNode>.Empty
            .Add("role", new HclString("web", default))
            .Add("region", new HclString("us-west-1", default));
        foreach (var (key, value) in extra)
        {
            values = values.SetItem(key, value is int n ? new HclNumber($"{n}", n, n, default) : new HclString((string)value, default));
        }

        return new AlicloudMethod(new MethodSettings(new ConfigMap(values, default), "auto_auth.method \"alicloud\""), "auth/alicloud",
            name => environment?.GetValueOrDefault(name), new FakeTimeProvider(Now), NullLogger.Instance,
            handler is null ? null : new HttpMessageInvoker(handler));
    }

    private static readonly (string, object)[] StaticKeys = [("access_key", "LTAIconfig"), ("access_secret", "config-secret")];

    private static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    private static Dictionary<string, string> Query(string url) =>
        new Uri(url).Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => Uri.UnescapeDataString(p[1].Replace('+', ' ')), StringComparer.Ordinal);

    [Fact]
    public void Defaults_AreVaultsPollIntervalAndTheEcsMetadataAddress()
    {
        var method = Method();

        Assert.Equal(TimeSpan.FromSeconds(60), method.CredentialPollInterval);
        Assert.Equal("http://100.100.100.200", method.MetadataEndpoint);
        Assert.Equal("alicloud", method.Type);
        Assert.Equal(TimeSpan.FromSeconds(15), Method(null, null, ("credential_poll_interval", 15)).CredentialPollInterval);
    }

    [Theory]
    [InlineData("us-west-1", "sts.us-west-1.aliyuncs.com")]
    [InlineData("cn-hangzhou", "sts.cn-hangzhou.aliyuncs.com")]
    [InlineData("cn-wuhan", "sts.aliyuncs.com")]
    [InlineData("cn-shenzhen-finance-1", "sts-vpc.cn-shenzhen-finance-1.aliyuncs.com")]
    public void StsHost_IsTheSdksEndpointForTheRegion(string region, string host) => Assert.Equal(host, AlicloudMethod.StsHost(region));

    [Fact]
    public async Task Chain_EnvironmentComesBeforeTheConfigKeys()
    {
        var env = new Dictionary<string, string> { ["ALICLOUD_ACCESS_KEY"] = "LTAIenv", ["ALICLOUD_SECRET_KEY"] = "env-secret" };

        var (credential, error) = await Method(env, null, StaticKeys).RetrieveAsync(CancellationToken.None);

        Assert.Null(error);
        Assert.Equal(new AlicloudCredential { Kind = AlicloudCredentialKind.AccessKey, AccessKeyId = "LTAIenv", AccessKeySecret = "env-secret" }, credential);
    }

    [Fact]
    public async Task Chain_ConfigPicksAsTheSdk_RoleArnOnlyWithSessionNameAndExpiration_ThenStsToken_ThenRoleName_ThenKeyPair()
    {
        async Task<AlicloudCredential?> Pick(params (string, object)[] keys) => (await Method(null, null, keys).RetrieveAsync(CancellationToken.None)).Credential;

        var assumed = await Pick([.. StaticKeys, ("role_arn", "acs:ram::1:role/r"), ("role_session_name", "s"), ("role_session_expiration", 900), ("role_name", "ecs")]);
        Assert.Equal(AlicloudCredentialKind.RamRoleArn, assumed!.Kind);
        Assert.Equal(900, assumed.RoleSessionExpiration);

        var withToken = await Pick([.. StaticKeys, ("access_token", "sts-token"), ("role_arn", "acs:ram::1:role/r")]);
        Assert.Equal(AlicloudCredentialKind.StsToken, withToken!.Kind);
        Assert.Equal("sts-token", withToken.SecurityToken);

        Assert.Equal(AlicloudCredentialKind.EcsRamRole, (await Pick(("role_name", "ecs"), ("public_key_id", "p"), ("private_key", "k"), ("session_expiration", 0)))!.Kind);
        Assert.Equal(AlicloudCredentialKind.RsaKeyPair, (await Pick(("public_key_id", "p"), ("private_key", "k"), ("session_expiration", 0)))!.Kind);
    }

    [Fact]
    public async Task Chain_EnvironmentRoleArn_NeedsNoExpiration_AndABadExpirationIsReported()
    {
        var env = new Dictionary<string, string>
        {
            ["ALICLOUD_ACCESS_KEY"] = "LTAIenv", ["ALICLOUD_SECRET_KEY"] = "env-secret", ["ALICLOUD_ROLE_ARN"] = "acs:ram::1:role/r",
            ["ALICLOUD_ROLE_SESSION_NAME"] = "gatehouse",
        };
        Assert.Equal(AlicloudCredentialKind.RamRoleArn, (await Method(env).RetrieveAsync(CancellationToken.None)).Credential!.Kind);

        env["ALICLOUD_ROLE_SESSION_EXPIRATION"] = "1h";
        var (_, error) = await Method(env, null, StaticKeys).RetrieveAsync(CancellationToken.None);
        Assert.Null(error); // the environment provider failed; the config keys answered.
        Assert.Equal("LTAIconfig", (await Method(env, null, StaticKeys).RetrieveAsync(CancellationToken.None)).Credential!.AccessKeyId);
    }

    [Fact]
    public async Task Chain_NothingConfigured_AsksTheMetadataServiceForTheInstancesRole()
    {
        var handler = new RecordingHandler((request, _) => request.RequestUri!.AbsolutePath switch
        {
            "/latest/api/token" => Json("meta-token"),
            AlicloudMethod.CredentialsPath => Json("ecs-role"),
            AlicloudMethod.CredentialsPath + "ecs-role" => Json(
                """{"Code":"Success","AccessKeyId":"STS.ecs","AccessKeySecret":"ecs-secret","SecurityToken":"ecs-token","Expiration":"2026-12-07T18:00:00Z"}"""),
            _ => new HttpResponseMessage(HttpStatusCode.NotFound),
        });

        var (credential, error) = await Method(null, handler).RetrieveAsync(CancellationToken.None);

        Assert.Null(error);
        Assert.Equal(new AlicloudCredential { Kind = AlicloudCredentialKind.StsToken, AccessKeyId = "STS.ecs", AccessKeySecret = "ecs-secret", SecurityToken = "ecs-token" }, credential);
        Assert.All(handler.Seen.Where(s => s.Request.Method == HttpMethod.Get),
            s => Assert.Equal("meta-token", s.Request.Headers.GetValues("X-aliyun-ecs-metadata-token").Single()));
    }

    [Fact]
    public async Task Chain_NothingConfiguredAndNoMetadataService_SaysWhatWasLookedFor()
    {
        var handler = new RecordingHandler((_, _) => throw new HttpRequestException("Connection refused"));

        var login = await Method(null, handler).PrepareLoginAsync(null!, CancellationToken.None);

        Assert.StartsWith("error retrieving Alibaba Cloud credentials: get role name failed: the ECS metadata service at http://100.100.100.200 is unreachable (Connection refused)", login.Error, StringComparison.Ordinal);
        Assert.Contains("ALICLOUD_ACCESS_KEY", login.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoginBody_IsTheSignedGetCallerIdentityCall_AsVaultsToolsCaptureIt()
    {
        var request = await Method(null, null, [.. StaticKeys, ("access_token", "sts-token")]).PrepareLoginAsync(null!, CancellationToken.None);

        Assert.Null(request.Error);
        Assert.Equal("auth/alicloud/login", request.LoginPath);
        Assert.Equal(["identity_request_headers", "identity_request_url", "role"], request.Body!.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("web", request.Body["role"]);
        var url = Encoding.UTF8.GetString(Convert.FromBase64String(request.Body["identity_request_url"]));
        Assert.StartsWith("https://sts.us-west-1.aliyuncs.com/?AccessKeyId=LTAIconfig&Action=GetCallerIdentity&Format=JSON&RegionId=us-west-1&SecurityToken=sts-token&Signature=", url, StringComparison.Ordinal);
        var query = Query(url);
        Assert.Equal("2026-12-07T12:36:00Z", query["Timestamp"]);
        Assert.Equal("", query["SignatureType"]);
        Assert.Equal(("HMAC-SHA1", "1.0", "2015-04-01"), (query["SignatureMethod"], query["SignatureVersion"], query["Version"]));
        Assert.Matches("^[0-9a-f]{32}$", query["SignatureNonce"]);
        var signature = query["Signature"];
        query.Remove("Signature");
        Assert.Equal(AlicloudRpcSigner.HmacSha1("POST", query, "config-secret"), signature);
        Assert.Contains("Timestamp=2026-12-07T12%3A36%3A00Z", url, StringComparison.Ordinal);

        var headers = JsonNode.Parse(Convert.FromBase64String(request.Body["identity_request_headers"]))!.AsObject();
        Assert.Equal(
            ["Accept-Encoding", "Content-Type", "User-Agent", "x-acs-action", "x-acs-credentials-provider", "x-acs-version", "x-sdk-client", "x-sdk-core-version", "x-sdk-invoke-type"],
            headers.Select(h => h.Key));
        Assert.Equal("static_sts", headers["x-acs-credentials-provider"]![0]!.ToString());
        Assert.Equal("application/x-www-form-urlencoded", headers["Content-Type"]![0]!.ToString());
        Assert.DoesNotContain("config-secret", url + headers.ToJsonString() + request, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RoleArn_AssumesTheRoleWithTheAccessKey_AndSignsWithTheSessionKeys()
    {
        var handler = new RecordingHandler((_, _) => Json(
            """{"RequestId":"r","Credentials":{"AccessKeyId":"STS.assumed","AccessKeySecret":"assumed-secret","SecurityToken":"assumed-token","Expiration":"2026-12-07T13:36:00Z"}}"""));
        var method = Method(null, handler, [.. StaticKeys, ("role_arn", "acs:ram::1:role/web-role"), ("role_session_name", "gatehouse"),
            ("role_session_expiration", 1800), ("sts_endpoint", "http://sts.test:8080/")]);

        var login = await method.PrepareLoginAsync(null!, CancellationToken.None);

        Assert.Null(login.Error);
        var (assumeRole, form) = Assert.Single(handler.Seen);
        Assert.Equal(HttpMethod.Post, assumeRole.Method);
        Assert.Equal("sts.test:8080", assumeRole.RequestUri!.Authority);
        var query = Query(assumeRole.RequestUri.ToString());
        Assert.Equal(("AssumeRole", "LTAIconfig"), (query["Action"], query["AccessKeyId"]));
        Assert.Equal("DurationSeconds=1800&RoleArn=acs%3Aram%3A%3A1%3Arole%2Fweb-role&RoleSessionName=gatehouse", form);
        var signature = query["Signature"];
        query.Remove("Signature");
        query["DurationSeconds"] = "1800";
        query["RoleArn"] = "acs:ram::1:role/web-role";
        query["RoleSessionName"] = "gatehouse";
        Assert.Equal(AlicloudRpcSigner.HmacSha1("POST", query, "config-secret"), signature);

        var identity = Query(Encoding.UTF8.GetString(Convert.FromBase64String(login.Body!["identity_request_url"])));
        Assert.Equal(("STS.assumed", "assumed-token"), (identity["AccessKeyId"], identity["SecurityToken"]));
        var headers = JsonNode.Parse(Convert.FromBase64String(login.Body["identity_request_headers"]))!;
        Assert.Equal("ram_role_arn/static_ak", headers["x-acs-credentials-provider"]![0]!.ToString());
    }

    [Fact]
    public async Task RoleArn_StsRefusal_IsALoginErrorWithStsWords()
    {
        var handler = new RecordingHandler((_, _) => Json("""{"Code":"EntityNotExist.Role","Message":"The role not exists."}""", HttpStatusCode.NotFound));
        var method = Method(null, handler, [.. StaticKeys, ("role_arn", "acs:ram::1:role/none"), ("role_session_name", "g"), ("role_session_expiration", 0)]);

        var login = await method.PrepareLoginAsync(null!, CancellationToken.None);

        Assert.Equal("error creating login value: refresh session token failed: STS AssumeRole for acs:ram::1:role/none answered 404: " +
            """{"Code":"EntityNotExist.Role","Message":"The role not exists."}""", login.Error);
    }

    [Fact]
    public async Task Poll_ReportsNewCredentialsOnlyWhenTheChainsAnswerChanges()
    {
        var env = new Dictionary<string, string> { ["ALICLOUD_ACCESS_KEY"] = "LTAIone", ["ALICLOUD_SECRET_KEY"] = "one" };
        var method = new AlicloudMethod(new MethodSettings(new ConfigMap(ImmutableDictionary<string, HclNode>.Empty
                .Add("role", new HclString("web", default)).Add("region", new HclString("us-west-1", default)), default), "m"),
            "auth/alicloud", name => env.GetValueOrDefault(name), new FakeTimeProvider(Now), NullLogger.Instance);

        await method.CheckCredentialsAsync(CancellationToken.None);
        await method.CheckCredentialsAsync(CancellationToken.None);
        Assert.False(method.NewCredentials.TryRead(out _));

        env["ALICLOUD_ACCESS_KEY"] = "LTAItwo";
        await method.CheckCredentialsAsync(CancellationToken.None);
        Assert.True(method.NewCredentials.TryRead(out _));
        var login = await method.PrepareLoginAsync(null!, CancellationToken.None);
        Assert.Contains("AccessKeyId=LTAItwo", Encoding.UTF8.GetString(Convert.FromBase64String(login.Body!["identity_request_url"])), StringComparison.Ordinal);
    }
}
