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

    /// <summary>A CA, two client certificates it signed (CN app-a, app-b), and DevVault's TLS certificate.</summary>
    private sealed class Pki : IDisposable
    {
        private readonly RSA _caKey = RSA.Create(2048);
        private readonly RSA _serverKey = RSA.Create(2048);

        public Pki()
        {
            var caRequest = new CertificateRequest("CN=Gatehouse Test CA", _caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
            Ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));

            var serverRequest = new CertificateRequest("CN=127.0.0.1", _serverKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            ServerSelfSigned = serverRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            Server = X509CertificateLoader.LoadPkcs12(ServerSelfSigned.Export(X509ContentType.Pkcs12), null);
        }

        public X509Certificate2 Ca { get; }

        public X509Certificate2 ServerSelfSigned { get; }

        public X509Certificate2 Server { get; }

        /// <summary>Writes a client certificate with common name <paramref name="cn"/> and its key as PEM files.</summary>
        public void WriteClient(string cn, string certPath, string keyPath)
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=" + cn, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
            using var cert = request.Create(Ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddHours(1), RandomNumberGenerator.GetBytes(8));
            File.WriteAllText(certPath, cert.ExportCertificatePem());
            File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        }

        public void Dispose()
        {
            Ca.Dispose();
            ServerSelfSigned.Dispose();
            Server.Dispose();
            _caKey.Dispose();
            _serverKey.Dispose();
        }
    }

    private static async Task<AutoAuthHarness> StartCertVaultAsync(Pki pki)
    {
        var h = await StartVaultAsync(pki.Server);
        await h.RootAsync(HttpMethod.Post, "sys/auth/cert", new { type = "cert" });
        await h.RootAsync(HttpMethod.Post, "auth/cert/certs/apps", new { certificate = pki.Ca.ExportCertificatePem(), token_policies = "default", token_ttl = "10m" });
        await File.WriteAllTextAsync(h.PathOf("server-ca.pem"), pki.ServerSelfSigned.ExportCertificatePem());
        return h;
    }

    private static async Task<string> CommonNameOfAsync(AutoAuthHarness h, string token) =>
        (await h.RootAsync(HttpMethod.Get, "auth/token/lookup-self", token: token))!["data"]!["meta"]!["common_name"]!.ToString();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Cert_CertificateSwappedBetweenLogins_IsPickedUpOnlyWithReload(bool reload)
    {
        using var pki = new Pki();
        await using var h = await StartCertVaultAsync(pki);
        pki.WriteClient("app-a", h.PathOf("client.pem"), h.PathOf("client-key.pem"));
        var method = new AuthMethodConfig
        {
            Type = "cert",
            Config = Map(("name", "apps"), ("ca_cert", h.PathOf("server-ca.pem")), ("client_cert", h.PathOf("client.pem")),
                ("client_key", h.PathOf("client-key.pem")), ("reload", reload)),
        };
        // The vault stanza trusts DevVault too (renewals and lookups go through it, as in Vault).
        var config = h.Config(method, h.FileSink("sink"));
        await h.StartGatehouseAsync(config with { Vault = config.Vault with { CaCert = h.PathOf("server-ca.pem") } });
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextWaitAsync()).Reason);
        var first = h.Store.Current!.Token;
        Assert.Equal("app-a", await CommonNameOfAsync(h, first));

        // A new certificate lands in the same files; Vault revokes the token and the proxy reports it rejected,
        // forcing a login.
        pki.WriteClient("app-b", h.PathOf("client.pem"), h.PathOf("client-key.pem"));
        await h.RootAsync(HttpMethod.Post, "auth/token/revoke", new { token = first });
        h.Store.ReportRejected(first);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextWaitAsync()).Reason);
        var second = h.Store.Current!.Token;
        Assert.NotEqual(first, second);
        Assert.Equal(2, h.Server.Faults.CountRequests("PUT", "/v1/auth/cert/login"));
        Assert.Equal(reload ? "app-b" : "app-a", await CommonNameOfAsync(h, second));
    }

    [Fact]
    public async Task Cert_WithoutItsOwnCertificate_UsesTheVaultStanzasTlsIdentity()
    {
        using var pki = new Pki();
        await using var h = await StartCertVaultAsync(pki);
        pki.WriteClient("from-vault-stanza", h.PathOf("vault-client.pem"), h.PathOf("vault-client-key.pem"));
        var method = new AuthMethodConfig { Type = "cert", Config = Map(("name", "apps")) };
        var config = h.Config(method, h.FileSink("sink")) with
        {
            Vault = new VaultConfig
            {
                Address = h.Server.Address.ToString(),
                CaCert = h.PathOf("server-ca.pem"),
                ClientCert = h.PathOf("vault-client.pem"),
                ClientKey = h.PathOf("vault-client-key.pem"),
            },
        };
        await h.StartGatehouseAsync(config);
        Assert.Equal(AuthWaitReason.Renewal, (await h.NextWaitAsync()).Reason);
        await h.NextSinkWriteAsync();

        var token = await File.ReadAllTextAsync(h.PathOf("sink"));
        Assert.Equal(h.Store.Current!.Token, token);
        Assert.Equal("from-vault-stanza", await CommonNameOfAsync(h, token));
        Assert.Equal(1, h.Server.Faults.CountRequests("PUT", "/v1/auth/cert/login"));
    }
}
