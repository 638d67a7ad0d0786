using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.DevVault.Tests;

/// <summary>
/// DevVault's aws backend: what its stubbed STS checks in a forwarded GetCallerIdentity request (signature with the
/// test identity's secret, freshness, the server-ID header being signed), and ec2 documents in PKCS#7.
/// </summary>
public sealed class AwsAuthTests
{
    private const string AccessKey = "AKIADEVVAULTTEST0001";
    private const string SecretKey = "devvault-test-secret";
    private const string Body = "Action=GetCallerIdentity&Version=2011-06-15";

    private static object IamLogin(DateTimeOffset signedAt, string secret = SecretKey, string? serverId = null, bool signServerId = true)
    {
        var amzDate = signedAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var headers = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["content-type"] = "application/x-www-form-urlencoded; charset=utf-8",
            ["x-amz-date"] = amzDate,
        };
        if (serverId is not null)
        {
            headers["x-vault-aws-iam-server-id"] = serverId;
        }

        List<string> signed = ["content-type", "host", "x-amz-date", .. serverId is not null && signServerId ? ["x-vault-aws-iam-server-id"] : Array.Empty<string>()];
        var url = new Uri("https://sts.amazonaws.com/");
        var signature = SigV4.Sign(secret, "POST", url, headers, signed, Encoding.UTF8.GetBytes(Body), amzDate, amzDate[..8], "us-east-1", "sts");
        var goHeaders = headers.ToDictionary(h => h.Key, h => new[] { h.Value });
        goHeaders["Authorization"] = [$"AWS4-HMAC-SHA256 Credential={AccessKey}/{amzDate[..8]}/us-east-1/sts/aws4_request, SignedHeaders={string.Join(';', signed)}, Signature={signature}"];
        return new
        {
            role = "web",
            iam_http_request_method = "POST",
            iam_request_url = Convert.ToBase64String(Encoding.UTF8.GetBytes(url.ToString())),
            iam_request_body = Convert.ToBase64String(Encoding.UTF8.GetBytes(Body)),
            iam_request_headers = Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(goHeaders)),
        };
    }

    [Fact]
    public async Task IamLogin_ChecksSignatureFreshnessAndTheSignedServerIdHeader()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { TimeProvider = time });
        using var vault = new Vault(server);
        await vault.OkAsync("POST", "sys/auth/aws", body: new { type = "aws" });
        await vault.OkAsync("POST", "auth/aws/config/client", body: new
        {
            iam_server_id_header_value = "vault.example.com",
            dev_sts_identities = new[] { new { access_key = AccessKey, secret_key = SecretKey, arn = "arn:aws:iam::123456789012:user/ci" } },
        });
        await vault.OkAsync("POST", "auth/aws/role/web", body: new { auth_type = "iam", policies = "default", bound_iam_principal_arn = new[] { "arn:aws:iam::123456789012:user/*" } });

        var login = await vault.OkAsync("POST", "auth/aws/login", null, IamLogin(time.GetUtcNow(), serverId: "vault.example.com"));
        Assert.Equal("arn:aws:iam::123456789012:user/ci", login["auth"]!["metadata"]!["client_arn"]!.ToString());
        var read = await vault.OkAsync("GET", "auth/aws/config/client");
        Assert.Null(read["data"]!["dev_sts_identities"]);

        async Task<string> RefusedAsync(object body)
        {
            var (status, answer, _) = await vault.SendAsync("POST", "auth/aws/login", body: body);
            Assert.Equal(400, status);
            return answer!["errors"]![0]!.ToString();
        }

        Assert.Contains("<Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match",
            await RefusedAsync(IamLogin(time.GetUtcNow(), secret: "wrong", serverId: "vault.example.com")), StringComparison.Ordinal);
        Assert.Contains("Signature expired: 20261207T113900Z is now earlier than 20261207T114500Z (20261207T120000Z - 15 min.)",
            await RefusedAsync(IamLogin(time.GetUtcNow().AddMinutes(-21), serverId: "vault.example.com")), StringComparison.Ordinal);
        Assert.Equal("error validating X-Vault-AWS-IAM-Server-ID header: missing header \"X-Vault-AWS-IAM-Server-ID\"",
            await RefusedAsync(IamLogin(time.GetUtcNow())));
        Assert.Equal("error validating X-Vault-AWS-IAM-Server-ID header: header X-Vault-AWS-IAM-Server-ID is not signed",
            await RefusedAsync(IamLogin(time.GetUtcNow(), serverId: "vault.example.com", signServerId: false)));
    }

    [Fact]
    public async Task Ec2Login_VerifiesPkcs7AgainstTheConfiguredCertificate_AndHoldsTheFirstNonce()
    {
        using var key = RSA.Create(2048);
        using var cert = new CertificateRequest("CN=ec2 test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var otherKey = RSA.Create(2048);
        using var other = new CertificateRequest("CN=ec2 test", otherKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        static string Pkcs7(X509Certificate2 signer)
        {
            var document = """{"accountId":"123456789012","imageId":"ami-1","instanceId":"i-1","region":"eu-west-1"}""";
            var cms = new SignedCms(new ContentInfo(Encoding.UTF8.GetBytes(document)));
            cms.ComputeSignature(new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, signer) { IncludeOption = X509IncludeOption.None });
            return Convert.ToBase64String(cms.Encode());
        }

        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        using var vault = new Vault(server);
        await vault.OkAsync("POST", "sys/auth/aws", body: new { type = "aws" });
        await vault.OkAsync("POST", "auth/aws/config/certificate/test", body: new { aws_public_cert = cert.ExportCertificatePem(), type = "pkcs7" });
        await vault.OkAsync("POST", "auth/aws/role/ami-1", body: new { auth_type = "ec2", policies = "default", bound_region = new[] { "eu-west-1" } });

        // No role: the AMI ID names it, as in Vault; no nonce: Vault makes one and returns it.
        var first = await vault.OkAsync("POST", "auth/aws/login", null, new { pkcs7 = Pkcs7(cert) });
        var nonce = first["auth"]!["metadata"]!["nonce"]!.ToString();
        Assert.Equal("ami-1", first["auth"]!["metadata"]!["role"]!.ToString());
        await vault.OkAsync("POST", "auth/aws/login", null, new { pkcs7 = Pkcs7(cert), nonce });

        var (status, body, _) = await vault.SendAsync("POST", "auth/aws/login", body: new { pkcs7 = Pkcs7(cert), nonce = "another" });
        Assert.Equal(400, status);
        Assert.Equal("client nonce mismatch", body!["errors"]![0]!.ToString());
        (status, body, _) = await vault.SendAsync("POST", "auth/aws/login", body: new { pkcs7 = Pkcs7(other), nonce });
        Assert.Equal(400, status);
        Assert.Equal("failed to verify the signature of the PKCS#7 instance identity document", body!["errors"]![0]!.ToString());
    }
}
