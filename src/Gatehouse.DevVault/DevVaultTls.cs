using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.DevVault;

/// <summary>
/// The certificates of <see cref="DevVaultOptions.TlsServerName"/>: a throwaway CA and a server certificate it
/// issues for one DNS name, plus, for <see cref="DevVaultOptions.IngressHost"/>, a stand-in for ingress-nginx's
/// self-signed default certificate. ECDSA P-256, so making them at start costs milliseconds.
/// </summary>
internal sealed class DevVaultTls : IDisposable
{
    private DevVaultTls(X509Certificate2 ca, X509Certificate2 server, X509Certificate2 ingressDefault)
    {
        Ca = ca;
        Server = server;
        IngressDefault = ingressDefault;
    }

    /// <summary>The CA, public part only.</summary>
    public X509Certificate2 Ca { get; }

    /// <summary>The server certificate for the DNS name, with its key.</summary>
    public X509Certificate2 Server { get; }

    /// <summary>What ingress-nginx serves to a handshake for a name it has no certificate for.</summary>
    public X509Certificate2 IngressDefault { get; }

    /// <summary>Refuses names a certificate for "a DNS name, not 127.0.0.1" cannot be.</summary>
    public static void Validate(string dnsName)
    {
        if (string.IsNullOrWhiteSpace(dnsName) || IPAddress.TryParse(dnsName, out _) || Uri.CheckHostName(dnsName) != UriHostNameType.Dns)
        {
            throw new ArgumentException($"TlsServerName \"{dnsName}\" must be a DNS name such as vault.test, not an address.", nameof(dnsName));
        }
    }

    public static DevVaultTls Create(string dnsName)
    {
        Validate(dnsName);
        // The real clock on purpose: TLS clients check validity against the machine's clock, not the server's
        // TimeProvider, which tests may have moved.
        var now = TimeProvider.System.GetUtcNow();
        var notBefore = now.AddMinutes(-5);
        var notAfter = now.AddDays(30);

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=DevVault Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var caWithKey = caRequest.CreateSelfSigned(notBefore, notAfter);

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=" + dnsName, serverKey, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(dnsName);
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(caWithKey, true, false));
        using var serverPublic = serverRequest.Create(caWithKey, notBefore, notAfter, RandomNumberGenerator.GetBytes(16));

        // ingress-nginx's "Kubernetes Ingress Controller Fake Certificate" (O=Acme Co, SAN ingress.local), self-signed.
        using var ingressKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var ingressRequest = new CertificateRequest("CN=Kubernetes Ingress Controller Fake Certificate, O=Acme Co", ingressKey, HashAlgorithmName.SHA256);
        var ingressNames = new SubjectAlternativeNameBuilder();
        ingressNames.AddDnsName("ingress.local");
        ingressRequest.CertificateExtensions.Add(ingressNames.Build());
        using var ingressSelf = ingressRequest.CreateSelfSigned(notBefore, notAfter);

        return new DevVaultTls(
            X509CertificateLoader.LoadCertificate(caWithKey.RawData),
            WithUsableKey(serverPublic.CopyWithPrivateKey(serverKey)),
            WithUsableKey(ingressSelf));
    }

    // Through PKCS#12 and back, so the key is one SslStream can use on every platform (not an ephemeral handle).
    private static X509Certificate2 WithUsableKey(X509Certificate2 certificate)
    {
        using (certificate)
        {
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        }
    }

    public void Dispose()
    {
        Ca.Dispose();
        Server.Dispose();
        IngressDefault.Dispose();
    }
}
