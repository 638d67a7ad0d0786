using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.AutoAuth;
using Gatehouse.AutoAuth.Methods;
using Gatehouse.Configuration;
using Gatehouse.Hcl;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gatehouse.Tests.AutoAuth.Methods;

/// <summary>The cf method's login body, as vault-plugin-auth-cf's signatures.Sign and Vault Agent build it.</summary>
public sealed class CfMethodTests
{
    private static AuthMethodConfig Config(string type = "cf") => new()
    {
        Type = type,
        Config = new ConfigMap(ImmutableDictionary<string, HclNode>.Empty.Add("role", new HclString("web", default)), default),
    };

    [Theory]
    [InlineData("cf")]
    [InlineData("pcf")]
    public async Task Cf_Login_SignsSigningTimeCertificateAndRole_WithRsaPssSha256_AsV1Base64(string type)
    {
        var dir = Directory.CreateTempSubdirectory("gatehouse-cf-");
        try
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=instance-1, OU=app:a", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            var certText = cert.ExportCertificatePem() + "\n";
            string certPath = Path.Combine(dir.FullName, "cert"), keyPath = Path.Combine(dir.FullName, "key");
            await File.WriteAllTextAsync(certPath, certText);
            await File.WriteAllTextAsync(keyPath, key.ExportRSAPrivateKeyPem());
            var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 13, 5, 9, TimeSpan.Zero));
            var method = Assert.IsType<CfMethod>(AuthMethodFactory.Create(new GatehouseConfig(), Config(type), time, NullLoggerFactory.Instance,
                name => name switch { "CF_INSTANCE_CERT" => certPath, "CF_INSTANCE_KEY" => keyPath, _ => null }));

            var login = await method.PrepareLoginAsync(null!, CancellationToken.None);

            Assert.Equal($"auth/{type}/login", login.LoginPath);
            Assert.Equal("web", login.Body!["role"]);
            Assert.Equal(certText, login.Body["cf_instance_cert"]);
            Assert.Equal("2026-12-07T13:05:09Z", login.Body["signing_time"]);
            var signature = login.Body["signature"];
            Assert.StartsWith("v1:", signature, StringComparison.Ordinal);
            Assert.True(key.VerifyData(Encoding.UTF8.GetBytes("2026-12-07T13:05:09Z" + certText + "web"), Convert.FromBase64String(signature[3..]),
                HashAlgorithmName.SHA256, RSASignaturePadding.Pss));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Cf_WithoutTheInstanceVariables_FailsNamingThem()
    {
        var method = AuthMethodFactory.Create(new GatehouseConfig(), Config(), new FakeTimeProvider(), NullLoggerFactory.Instance, _ => null);

        var login = await method.PrepareLoginAsync(null!, CancellationToken.None);

        Assert.StartsWith("missing \"CF_INSTANCE_CERT\" value", login.Error, StringComparison.Ordinal);
    }
}
