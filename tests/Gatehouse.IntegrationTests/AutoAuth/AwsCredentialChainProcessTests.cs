using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using Gatehouse.IntegrationTests.Operations;
using Gatehouse.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>
/// The aws method's credentials from the AWS SDK's default chain, through the real <c>gatehouse proxy</c> executable:
/// the chain reads the process environment, so each case runs its own process with its own environment (HOME and
/// the SDK's files pointed into a temporary directory, nothing inherited from the machine) and the SDK is pointed at
/// loopback emulators only through its documented overrides. DevVault, in this process, checks every signature.
/// </summary>
[Trait("Executable", "true")]
public sealed class AwsCredentialChainProcessTests
{
    private static string Hcl(OpsHarness h, string config = "", string autoAuthExtra = "") => $$"""
        vault {
          address = "{{h.Vault.Address}}"
        }
        auto_auth {
          method "aws" {
            config = {
              type = "iam"
              role = "web"
              {{config}}
            }
          }
          sink "file" {
            config = {
              path = "{{h.PathOf("token-sink")}}"
            }
          }
          {{autoAuthExtra}}
        }
        listener "tcp" {
          address     = "127.0.0.1:0"
          tls_disable = true
        }
        """;

    /// <summary><c>gatehouse proxy</c> with nothing of this machine's AWS set-up: no ~/.aws, no instance metadata at
    /// 169.254.169.254 unless a test points it somewhere.</summary>
    private static GatehouseProcess StartGatehouse(OpsHarness h, string hcl, Dictionary<string, string> environment)
    {
        var config = h.PathOf("gatehouse.hcl");
        File.WriteAllText(config, hcl);
        var home = Directory.CreateDirectory(h.PathOf("home")).FullName;
        var variables = new Dictionary<string, string>
        {
            ["HOME"] = home,
            ["AWS_CONFIG_FILE"] = Path.Combine(home, "no-config"),
            ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(home, "no-credentials"),
            ["AWS_EC2_METADATA_DISABLED"] = "true",
        };
        foreach (var (name, value) in environment)
        {
            variables[name] = value;
        }

        return GatehouseProcess.Start(["proxy", $"-config={config}", "-log-level=debug"], variables, "AWS_");
    }

    private static async Task<string> LoggedInArnAsync(OpsHarness h, GatehouseProcess gatehouse)
    {
        await gatehouse.WaitForAsync("authenticated with aws");
        await gatehouse.WaitForAsync("sink: token (accessor ");
        var token = await File.ReadAllTextAsync(h.PathOf("token-sink"));
        var lookup = await h.RootAsync(HttpMethod.Post, "auth/token/lookup", new { token });
        return lookup!["data"]!["meta"]!["client_arn"]!.ToString();
    }

    private static void AssertNoSecrets(GatehouseProcess gatehouse, params AwsTestIdentity[] identities)
    {
        var output = gatehouse.Output.ToString();
        foreach (var identity in identities)
        {
            Assert.DoesNotContain(identity.SecretKey, output, StringComparison.Ordinal);
            Assert.DoesNotContain(identity.SessionToken ?? identity.SecretKey, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task EnvironmentCredentials_AreTheFirstOfTheChain()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await AwsSetup.EnableAsync(h);
        var credentials = h.PathOf("credentials");
        await File.WriteAllTextAsync(credentials, $"[default]\naws_access_key_id = {AwsTestIdentity.RoleSession.AccessKey}\naws_secret_access_key = {AwsTestIdentity.RoleSession.SecretKey}\naws_session_token = {AwsTestIdentity.RoleSession.SessionToken}\n");

        await using var gatehouse = StartGatehouse(h, Hcl(h), new()
        {
            ["AWS_ACCESS_KEY_ID"] = AwsTestIdentity.User.AccessKey,
            ["AWS_SECRET_ACCESS_KEY"] = AwsTestIdentity.User.SecretKey,
            ["AWS_SHARED_CREDENTIALS_FILE"] = credentials,
        });

        Assert.Equal(AwsTestIdentity.User.Arn, await LoggedInArnAsync(h, gatehouse));
        AssertNoSecrets(gatehouse, AwsTestIdentity.User, AwsTestIdentity.RoleSession);
    }

    [Fact]
    public async Task SharedCredentialsFile_WithAwsProfile_IsUsed_AndRotatedKeysLogInAgainWithReauthOnNewCredentials()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await AwsSetup.EnableAsync(h);
        var credentials = h.PathOf("credentials");
        static string Profile(AwsTestIdentity i) =>
            $"[default]\naws_access_key_id = AKIANOTTHISPROFILE01\naws_secret_access_key = wrong\n\n[ci]\naws_access_key_id = {i.AccessKey}\naws_secret_access_key = {i.SecretKey}\naws_session_token = {i.SessionToken}\n";
        await File.WriteAllTextAsync(credentials, Profile(AwsTestIdentity.RoleSession));

        await using var gatehouse = StartGatehouse(h, Hcl(h, "credential_poll_interval = 1", "enable_reauth_on_new_credentials = true"), new()
        {
            ["AWS_SHARED_CREDENTIALS_FILE"] = credentials,
            ["AWS_PROFILE"] = "ci",
        });
        Assert.Equal(AwsTestIdentity.RoleSession.Arn, await LoggedInArnAsync(h, gatehouse));
        Assert.Equal(1, h.Vault.Faults.CountRequests("PUT", AwsSetup.Login));

        // The poller (every second, real time in a real process) sees the new keys and the handler logs in again.
        await File.WriteAllTextAsync(credentials, Profile(AwsTestIdentity.Rotated));
        await gatehouse.WaitForAsync("auth method found new credentials, re-authenticating");
        await gatehouse.WaitForAsync("authenticated with aws", occurrences: 2);
        Assert.Equal(2, h.Vault.Faults.CountRequests("PUT", AwsSetup.Login));
        AssertNoSecrets(gatehouse, AwsTestIdentity.RoleSession, AwsTestIdentity.Rotated);
    }

    [Fact]
    public async Task WebIdentity_AssumesTheRoleThroughTheStsEndpointOverride()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await AwsSetup.EnableAsync(h);
        await using var sts = await TestUpstream.StartAsync();
        var calls = new ConcurrentQueue<string>();
        sts.Handler = async context =>
        {
            var form = await context.Request.ReadFormAsync();
            calls.Enqueue($"{form["Action"]} {form["RoleArn"]} {form["WebIdentityToken"]}");
            var identity = AwsTestIdentity.RoleSession;
            context.Response.ContentType = "text/xml";
            await context.Response.WriteAsync($"""
                <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
                  <AssumeRoleWithWebIdentityResult>
                    <SubjectFromWebIdentityToken>system:serviceaccount:default:web</SubjectFromWebIdentityToken>
                    <Audience>sts.amazonaws.com</Audience>
                    <AssumedRoleUser>
                      <Arn>{identity.Arn}</Arn>
                      <AssumedRoleId>AROAGATEHOUSE:i-0abc</AssumedRoleId>
                    </AssumedRoleUser>
                    <Credentials>
                      <SessionToken>{identity.SessionToken}</SessionToken>
                      <SecretAccessKey>{identity.SecretKey}</SecretAccessKey>
                      <Expiration>{DateTime.UtcNow.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}</Expiration>
                      <AccessKeyId>{identity.AccessKey}</AccessKeyId>
                    </Credentials>
                    <Provider>oidc.eks.us-east-1.amazonaws.com/id/GATEHOUSE</Provider>
                  </AssumeRoleWithWebIdentityResult>
                  <ResponseMetadata><RequestId>{Guid.NewGuid()}</RequestId></ResponseMetadata>
                </AssumeRoleWithWebIdentityResponse>
                """);
        };
        var tokenFile = h.PathOf("web-identity-token");
        await File.WriteAllTextAsync(tokenFile, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3ZWIifQ.c2lnbmF0dXJl");

        await using var gatehouse = StartGatehouse(h, Hcl(h), new()
        {
            ["AWS_WEB_IDENTITY_TOKEN_FILE"] = tokenFile,
            ["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/web-role",
            ["AWS_ROLE_SESSION_NAME"] = "i-0abc",
            ["AWS_REGION"] = "us-east-1",
            ["AWS_ENDPOINT_URL_STS"] = sts.Address,
        });

        Assert.Equal(AwsTestIdentity.RoleSession.Arn, await LoggedInArnAsync(h, gatehouse));
        Assert.Contains(calls, c => c == "AssumeRoleWithWebIdentity arn:aws:iam::123456789012:role/web-role eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3ZWIifQ.c2lnbmF0dXJl");
        AssertNoSecrets(gatehouse, AwsTestIdentity.RoleSession);
        Assert.DoesNotContain("c2lnbmF0dXJl", gatehouse.Output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InstanceProfileCredentials_ComeFromImdsV2_ThroughTheEndpointOverride()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await AwsSetup.EnableAsync(h);
        await using var imds = await ImdsEmulator.StartAsync();

        await using var gatehouse = StartGatehouse(h, Hcl(h), new()
        {
            ["AWS_EC2_METADATA_DISABLED"] = "false",
            ["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.Address,
        });

        Assert.Equal(AwsTestIdentity.RoleSession.Arn, await LoggedInArnAsync(h, gatehouse));
        Assert.Contains("PUT /latest/api/token", imds.Requests);
        Assert.Contains("GET /latest/meta-data/iam/security-credentials/web-role (token)", imds.Requests);
        Assert.Equal(0, imds.Unauthorized);
        AssertNoSecrets(gatehouse, AwsTestIdentity.RoleSession);
    }

    [Fact]
    public async Task ContainerCredentials_ComeFromTheFullUri()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await AwsSetup.EnableAsync(h);
        await using var ecs = await TestUpstream.StartAsync();
        var authorization = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var seen = new ConcurrentQueue<string>();
        ecs.Handler = async context =>
        {
            seen.Enqueue(context.Request.Headers.Authorization.ToString());
            var identity = AwsTestIdentity.RoleSession;
            await context.Response.WriteAsync(System.Text.Json.JsonSerializer.Serialize(new
            {
                AccessKeyId = identity.AccessKey, SecretAccessKey = identity.SecretKey, Token = identity.SessionToken,
                Expiration = DateTime.UtcNow.AddHours(1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), RoleArn = "arn:aws:iam::123456789012:role/web-role",
            }));
        };

        await using var gatehouse = StartGatehouse(h, Hcl(h), new()
        {
            ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = ecs.Address + "/v2/credentials/task",
            ["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = authorization,
        });

        Assert.Equal(AwsTestIdentity.RoleSession.Arn, await LoggedInArnAsync(h, gatehouse));
        Assert.Contains(authorization, seen);
        AssertNoSecrets(gatehouse, AwsTestIdentity.RoleSession);
    }

    [Fact]
    public async Task NoCredentialsAnywhere_BacksOffWithAMessageNamingTheSources()
    {
        await using var h = await OpsHarness.StartVaultAsync();
        await AwsSetup.EnableAsync(h);

        await using var gatehouse = StartGatehouse(h, Hcl(h), []);

        await gatehouse.WaitForAsync("error creating login value: failed to retrieve AWS credentials: ");
        await gatehouse.WaitForAsync("AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN");
        await gatehouse.WaitForAsync("retrying in");
        Assert.Equal(0, h.Vault.Faults.CountRequests("PUT", AwsSetup.Login));
    }
}
