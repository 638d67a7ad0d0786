using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.IntegrationTests.Support;

/// <summary>A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate, written as PEM files.</summary>
internal sealed class TestCertificates : IDisposable
{
    private TestCertificates(TempDirectory directory, X509Certificate2 ca, X509Certificate2 server, X509Certificate2 client)
    {
        _directory = directory;
        Ca = ca;
        Server = server;
        Client = client;
    }

    private readonly TempDirectory _directory;

    public string Directory => _directory.Path;

    public X509Certificate2 Ca { get; }

    public X509Certificate2 Server { get; }

    public X509Certificate2 Client { get; }

    public string CaFile => Path.Combine(Directory, "ca.pem");

    public string ServerCertFile => Path.Combine(Directory, "server.pem");

    public string ServerKeyFile => Path.Combine(Directory, "server-key.pem");

    public static TestCertificates Create()
    {
        var directory = new TempDirectory("gatehouse-tls-");
        var now = DateTimeOffset.UtcNow;

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Gatehouse Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=localhost", serverKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(san.Build());
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var serverPublic = serverRequest.Create(ca, now.AddMinutes(-5), now.AddDays(1), [1, 2, 3, 4]);
        var server = serverPublic.CopyWithPrivateKey(serverKey);

        var clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var clientRequest = new CertificateRequest("CN=client", clientKey, HashAlgorithmName.SHA256);
        clientRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var clientPublic = clientRequest.Create(ca, now.AddMinutes(-5), now.AddDays(1), [5, 6, 7, 8]);
        // Exported and re-imported so SslStream can use the key as a client credential.
        var client = X509CertificateLoader.LoadPkcs12(clientPublic.CopyWithPrivateKey(clientKey).Export(X509ContentType.Pkcs12), null);

        File.WriteAllText(Path.Combine(directory, "ca.pem"), ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "server.pem"), server.ExportCertificatePem());
        File.WriteAllText(Path.Combine(directory, "server-key.pem"), serverKey.ExportPkcs8PrivateKeyPem());
        return new TestCertificates(directory, ca, server, client);
    }

    /// <summary>A client that trusts only the test CA, optionally presenting the client certificate.</summary>
    public HttpClient CreateClient(Uri baseAddress, bool presentClientCertificate)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        handler.SslOptions.CertificateChainPolicy.CustomTrustStore.Add(Ca);
        if (presentClientCertificate)
        {
            handler.SslOptions.ClientCertificates = [Client];
        }

        return new HttpClient(handler) { BaseAddress = baseAddress };
    }

    public void Dispose()
    {
        Ca.Dispose();
        Server.Dispose();
        Client.Dispose();
        _directory.Dispose();
    }
}
