using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.DevVault.Tests;

/// <summary>
/// The options for testing a proxy's Host and SNI handling: <see cref="DevVaultOptions.IngressHost"/> (routing by
/// Host, like an ingress) and <see cref="DevVaultOptions.TlsServerName"/> (HTTPS with a certificate for a DNS name).
/// </summary>
public sealed class IngressAndTlsTests
{
    [Theory]
    [InlineData("vault.test")]
    [InlineData("VAULT.test:8443")] // the port and the case do not matter, as in nginx's server_name match
    public async Task IngressHost_RequestForThatHost_ReachesVault(string host)
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { IngressHost = "vault.test" });
        var response = await RawHttp.SendAsync(server.Address, $"GET /v1/sys/health HTTP/1.1\r\nHost: {host}\r\n\r\n", null, headRequest: false);
        Assert.Equal(200, response.Status);
        Assert.Equal(1, server.Faults.RequestCount);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("other.test")]
    [InlineData("vault.test.example")]
    [InlineData("")]
    public async Task IngressHost_AnyOtherHost_GetsTheIngressDefaultBackend404(string host)
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { IngressHost = "vault.test" });
        var response = await RawHttp.SendAsync(server.Address, $"GET /v1/sys/health HTTP/1.1\r\nHost: {host}\r\n\r\n", null, headRequest: false);
        Assert.Equal(404, response.Status);
        Assert.Equal("text/plain; charset=utf-8", response.Header("Content-Type"));
        Assert.Equal("default backend - 404", response.Body);
        Assert.Null(response.Header("Cache-Control"));
        Assert.Equal(0, server.Faults.RequestCount); // Vault never saw it
    }

    [Fact]
    public async Task IngressHost_HttpClientAddressingTheIp_MustSetTheHostHeader()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { IngressHost = "vault.test" });
        using var http = new HttpClient { BaseAddress = server.Address };
        Assert.Equal(404, (int)(await http.GetAsync("/v1/sys/health")).StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/sys/health");
        request.Headers.Host = "vault.test";
        Assert.Equal(200, (int)(await http.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task TlsServerName_ClientThatTrustsTheCaAndVerifiesTheName_Connects()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { TlsServerName = "vault.test" });
        Assert.Equal("https", server.Address.Scheme);
        Assert.Equal("127.0.0.1", server.Address.Host);
        Assert.Equal($"https://vault.test:{server.Address.Port}/", server.TlsServerNameAddress!.ToString());
        using var http = new HttpClient(server.CreateHttpHandler()) { BaseAddress = server.TlsServerNameAddress };
        var response = await http.GetAsync("/v1/sys/health");
        Assert.Equal(200, (int)response.StatusCode);
    }

    [Fact]
    public async Task IngressHostWithTls_ClientByName_PassesBothSniAndHost()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { TlsServerName = "vault.test", IngressHost = "vault.test" });
        using var http = new HttpClient(server.CreateHttpHandler()) { BaseAddress = server.TlsServerNameAddress };
        Assert.Equal(200, (int)(await http.GetAsync("/v1/sys/health")).StatusCode);
    }

    [Fact]
    public async Task TlsServerName_ClientThatVerifiesTheIpAddress_IsRefused()
    {
        // The certificate names vault.test only, so tls_server_name is needed to talk to 127.0.0.1.
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { TlsServerName = "vault.test" });
        using var http = new HttpClient(server.CreateHttpHandler()) { BaseAddress = server.Address };
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("/v1/sys/health"));
        Assert.IsType<AuthenticationException>(e.InnerException);
    }

    [Fact]
    public async Task TlsServerName_CaCertificate_IsGivenAsCertificateAndPem_WithoutItsKey()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { TlsServerName = "vault.test" });
        var ca = server.TlsCaCertificate!;
        Assert.False(ca.HasPrivateKey);
        using var fromPem = X509Certificate2.CreateFromPem(server.TlsCaCertificatePem);
        Assert.Equal(ca.Thumbprint, fromPem.Thumbprint);

        var served = await ServedCertificateAsync(server, "vault.test");
        Assert.Equal(ca.Subject, served.Issuer);
        Assert.Equal("vault.test", served.GetNameInfo(X509NameType.DnsName, forIssuer: false));
    }

    [Fact]
    public async Task TlsServerName_WithoutIt_NoCaIsExposed()
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions());
        Assert.Null(server.TlsCaCertificate);
        Assert.Null(server.TlsCaCertificatePem);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("")]
    public async Task TlsServerName_MustBeADnsName(string name)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => DevVaultServer.StartAsync(new DevVaultOptions { TlsServerName = name }));
    }

    [Fact]
    public async Task TlsServerName_AndTlsCertificate_AreExclusive()
    {
        using var key = System.Security.Cryptography.ECDsa.Create();
        using var cert = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=x", key, System.Security.Cryptography.HashAlgorithmName.SHA256)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
        await Assert.ThrowsAsync<ArgumentException>(() => DevVaultServer.StartAsync(new DevVaultOptions { TlsServerName = "vault.test", TlsCertificate = cert }));
    }

    [Theory]
    [InlineData("other.test")]
    [InlineData(null)] // no SNI at all
    public async Task IngressHostWithTls_HandshakeForAnotherName_GetsTheIngressFakeCertificate(string? sni)
    {
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { TlsServerName = "vault.test", IngressHost = "vault.test" });
        var served = await ServedCertificateAsync(server, sni);
        Assert.Equal("CN=Kubernetes Ingress Controller Fake Certificate, O=Acme Co", served.Subject);
        var right = await ServedCertificateAsync(server, "vault.test");
        Assert.Equal("vault.test", right.GetNameInfo(X509NameType.DnsName, forIssuer: false));
    }

    [Fact]
    public async Task TlsServerName_WithoutIngress_ServesItsCertificateWhateverTheSni()
    {
        // Vault itself has one certificate and does not look at SNI.
        await using var server = await DevVaultServer.StartAsync(new DevVaultOptions { TlsServerName = "vault.test" });
        var served = await ServedCertificateAsync(server, "other.test");
        Assert.Equal("vault.test", served.GetNameInfo(X509NameType.DnsName, forIssuer: false));
    }

    /// <summary>The certificate the server presents to a handshake that sends <paramref name="sni"/> (none when null).</summary>
    private static async Task<X509Certificate2> ServedCertificateAsync(DevVaultServer server, string? sni)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Address.Host, server.Address.Port);
        X509Certificate2? served = null;
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, certificate, _, _) =>
        {
            // Only looking: which certificate came is what the tests check.
            served = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return served is not null;
        });
        // An IP address as TargetHost sends no SNI. The timeout only ends a handshake that never gets an answer.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = sni ?? "127.0.0.1" }, cts.Token);
        return served!;
    }
}
