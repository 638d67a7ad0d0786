using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Gatehouse.IntegrationTests.Operations;
using Gatehouse.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;

namespace Gatehouse.IntegrationTests.AutoAuth;

/// <summary>A test AWS identity: the keys DevVault's stubbed STS knows, and the ARN it names for them.</summary>
internal sealed record AwsTestIdentity(string AccessKey, string SecretKey, string Arn, string? SessionToken = null, bool Expired = false)
{
    public static readonly AwsTestIdentity User = new("AKIAGATEHOUSEUSER001", "user-secret/K7MDENG+bPxRfiCYEXAMPLEKEY", "arn:aws:iam::123456789012:user/ci-runner");

    public static readonly AwsTestIdentity RoleSession = new("ASIAGATEHOUSEROLE001", "role-secret/bPxRfiCYEXAMPLEKEYK7MDENG",
        "arn:aws:sts::123456789012:assumed-role/web-role/i-0abc", "FwoGZXIvYXdzEXAMPLESESSIONTOKEN1");

    public static readonly AwsTestIdentity Rotated = new("ASIAGATEHOUSEROLE002", "role-secret/rotatedEXAMPLEKEYK7MDENG",
        "arn:aws:sts::123456789012:assumed-role/web-role/i-0abc", "FwoGZXIvYXdzEXAMPLESESSIONTOKEN2");

    public object ToDevVault() => new { access_key = AccessKey, secret_key = SecretKey, arn = Arn, session_token = SessionToken, expired = Expired };
}

/// <summary>DevVault's aws backend set up as the tests use it.</summary>
internal static class AwsSetup
{
    public const string Login = "/v1/auth/aws/login";

    public static async Task EnableAsync(OpsHarness h, string? serverId = null, params AwsTestIdentity[] identities)
    {
        await h.RootAsync(HttpMethod.Post, "sys/auth/aws", new { type = "aws" });
        await h.RootAsync(HttpMethod.Post, "auth/aws/config/client", new
        {
            iam_server_id_header_value = serverId ?? "",
            dev_sts_identities = (identities.Length > 0 ? identities : [AwsTestIdentity.User, AwsTestIdentity.RoleSession, AwsTestIdentity.Rotated])
                .Select(i => i.ToDevVault()).ToArray(),
        });
        await h.RootAsync(HttpMethod.Post, "auth/aws/role/web", new
        {
            auth_type = "iam", policies = "all", token_ttl = "1h",
            bound_iam_principal_arn = new[] { "arn:aws:iam::123456789012:user/ci-runner", "arn:aws:iam::123456789012:role/web-role" },
        });
    }

    public static async Task AddEc2RoleAsync(OpsHarness h, ImdsEmulator imds, string ami = "ami-0gatehouse")
    {
        await h.RootAsync(HttpMethod.Post, "auth/aws/config/certificate/test-identity", new { aws_public_cert = imds.CertificatePem, type = "identity" });
        await h.RootAsync(HttpMethod.Post, "auth/aws/config/certificate/test-pkcs7", new { aws_public_cert = imds.CertificatePem, type = "pkcs7" });
        await h.RootAsync(HttpMethod.Post, "auth/aws/role/ec2-web", new
        {
            auth_type = "ec2", policies = "all", token_ttl = "1h", bound_ami_id = new[] { ami }, bound_account_id = new[] { "123456789012" },
        });
    }
}

/// <summary>
/// The EC2 instance metadata service as far as Vault Agent and the AWS SDK use it: IMDSv2 session tokens (or a
/// service that refuses them, for IMDSv1), the signed instance identity document, and instance-profile credentials.
/// The document is signed with a test certificate that DevVault is given.
/// </summary>
internal sealed class ImdsEmulator : IAsyncDisposable
{
    private readonly TestUpstream _upstream;
    private readonly RSA _key = RSA.Create(2048);
    private readonly X509Certificate2 _certificate;
    private readonly ConcurrentDictionary<string, bool> _tokens = new(StringComparer.Ordinal);

    private ImdsEmulator(TestUpstream upstream)
    {
        _upstream = upstream;
        var request = new CertificateRequest("CN=Gatehouse test EC2 identity", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        upstream.Handler = HandleAsync;
    }

    public string Address => _upstream.Address;

    public string CertificatePem => _certificate.ExportCertificatePem();

    /// <summary>False: the service answers 405 to token requests and takes requests without one (IMDSv1).</summary>
    public bool TokensSupported { get; set; } = true;

    public string ImageId { get; set; } = "ami-0gatehouse";

    public AwsTestIdentity RoleCredentials { get; set; } = AwsTestIdentity.RoleSession;

    public ConcurrentQueue<string> Requests { get; } = new();

    public int Unauthorized;

    public string Document => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["accountId"] = "123456789012", ["architecture"] = "x86_64", ["availabilityZone"] = "us-east-1a", ["imageId"] = ImageId,
        ["instanceId"] = "i-0abc", ["instanceType"] = "t3.micro", ["pendingTime"] = "2026-12-01T08:00:00Z", ["privateIp"] = "10.0.0.7",
        ["region"] = "us-east-1", ["version"] = "2017-09-30",
    });

    public static async Task<ImdsEmulator> StartAsync() => new(await TestUpstream.StartAsync());

    /// <summary>What <c>/latest/dynamic/instance-identity/pkcs7</c> holds: the document in PKCS#7, base64, no certificate.</summary>
    public string Pkcs7()
    {
        var cms = new SignedCms(new ContentInfo(Encoding.UTF8.GetBytes(Document)), detached: false);
        cms.ComputeSignature(new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, _certificate) { IncludeOption = X509IncludeOption.None });
        return Convert.ToBase64String(cms.Encode());
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var token = context.Request.Headers["X-aws-ec2-metadata-token"].ToString();
        Requests.Enqueue($"{context.Request.Method} {path}{(token.Length > 0 ? " (token)" : "")}");
        if (context.Request.Method == "PUT" && path == "/latest/api/token")
        {
            if (!TokensSupported)
            {
                context.Response.StatusCode = 405;
                return;
            }

            if (!int.TryParse(context.Request.Headers["X-aws-ec2-metadata-token-ttl-seconds"], CultureInfo.InvariantCulture, out var ttl) || ttl is < 1 or > 21600)
            {
                context.Response.StatusCode = 400;
                return;
            }

            var issued = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
            _tokens[issued] = true;
            await context.Response.WriteAsync(issued);
            return;
        }

        // With IMDSv2 available, a request must carry a token this service issued (as with HttpTokens=required).
        if (TokensSupported && !_tokens.ContainsKey(token))
        {
            Interlocked.Increment(ref Unauthorized);
            context.Response.StatusCode = 401;
            return;
        }

        const string credentialsPath = "/latest/meta-data/iam/security-credentials/";
        switch (path)
        {
            case "/latest/dynamic/instance-identity/document":
                await context.Response.WriteAsync(Document);
                return;
            case "/latest/dynamic/instance-identity/signature":
                // Base64 with line breaks every 64 characters, as EC2 returns it.
                var signature = Convert.ToBase64String(_key.SignData(Encoding.UTF8.GetBytes(Document), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
                await context.Response.WriteAsync(string.Join('\n', signature.Chunk(64).Select(c => new string(c))));
                return;
            case "/latest/dynamic/instance-identity/pkcs7":
                await context.Response.WriteAsync(Pkcs7());
                return;
            case "/latest/meta-data/iam/info":
                await context.Response.WriteAsync(JsonSerializer.Serialize(new
                {
                    Code = "Success", LastUpdated = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                    InstanceProfileArn = "arn:aws:iam::123456789012:instance-profile/web-role", InstanceProfileId = "AIPAGATEHOUSE",
                }));
                return;
            case credentialsPath or "/latest/meta-data/iam/security-credentials":
                await context.Response.WriteAsync("web-role");
                return;
            case credentialsPath + "web-role":
                await context.Response.WriteAsync(JsonSerializer.Serialize(new
                {
                    Code = "Success", LastUpdated = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture), Type = "AWS-HMAC",
                    AccessKeyId = RoleCredentials.AccessKey, SecretAccessKey = RoleCredentials.SecretKey, Token = RoleCredentials.SessionToken,
                    Expiration = DateTime.UtcNow.AddHours(6).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                }));
                return;
            default:
                context.Response.StatusCode = 404;
                return;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _upstream.DisposeAsync();
        _certificate.Dispose();
        _key.Dispose();
    }
}
