using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.AutoAuth;
using Gatehouse.Configuration;
using static Gatehouse.IntegrationTests.AutoAuth.AutoAuthHarness;

namespace Gatehouse.IntegrationTests.AutoAuth;

public sealed class CertAutoAuthTests
{
    [Fact]
    public async Task Cert_WithItsOwnClientCertificate_LogsInOverTlsAndRenews()
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Gatehouse Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

        using var clientKey = RSA.Create(2048);
        var clientRequest = new CertificateRequest("CN=app.example.com", clientKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        clientRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var client = clientRequest.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), [1, 2, 3, 4]);

        using var serverKey = RSA.Create(2048);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var serverSelf = serverRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var serverCert = X509CertificateLoader.LoadPkcs12(serverSelf.Export(X509ContentType.Pkcs12), null);

        await using var h = await StartVaultAsync(serverCert);
        await h.RootAsync(HttpMethod.Post, "sys/auth/cert", new { type = "cert" });
        await h.RootAsync(HttpMethod.Post, "auth/cert/certs/apps", new { certificate = ca.ExportCertificatePem(), token_policies = "default", token_ttl = "10m" });
        await File.WriteAllTextAsync(h.PathOf("client.pem"), client.ExportCertificatePem());
        await File.WriteAllTextAsync(h.PathOf("client-key.pem"), clientKey.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(h.PathOf("server-ca.pem"), serverSelf.ExportCertificatePem());

        var method = new AuthMethodConfig
        {
            Type = "cert",
            Config = Map(("name", "apps"), ("ca_cert", h.PathOf("server-ca.pem")), ("client_cert", h.PathOf("client.pem")), ("client_key", h.PathOf("client-key.pem"))),
        };
        var config = h.Config(method, h.FileSink("sink")) with { Vault = new VaultConfig { Address = h.Server.Address.ToString(), TlsSkipVerify = true } };
        await h.StartGatehouseAsync(config);
        var wait = await h.NextWaitAsync();
        await h.NextSinkWriteAsync();

        Assert.Equal(AuthWaitReason.Renewal, wait.Reason);
        Assert.Equal(TimeSpan.FromMinutes(10), h.Store.Current!.Ttl);
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", "/v1/auth/cert/login"));
        h.Time.Advance(wait.Delay);
        await h.NextWaitAsync();
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", "/v1/auth/token/renew-self"));
    }
}
