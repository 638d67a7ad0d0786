using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Injector;

/// <summary>
/// The webhook's serving certificate, read from a PEM certificate file and a PEM key file. Each TLS handshake asks
/// for <see cref="Current"/>, which reads both files again and builds a new certificate only when their bytes changed:
/// cert-manager (and the kubelet's atomic Secret-volume updates) replace the files while the injector runs, and no
/// restart is needed. The files are a few kilobytes and the API server keeps its connections, so reading them per
/// handshake costs nothing that matters, and no timer or watcher can miss a rotation. A pair that does not load (a
/// rotation seen half-way) keeps the previous certificate and is logged.
/// </summary>
internal sealed partial class CertificateFiles(string certFile, string keyFile, ILogger<CertificateFiles> logger)
{
    private readonly Lock _gate = new();
    private byte[] _certBytes = [];
    private byte[] _keyBytes = [];
    private X509Certificate2? _current;

    /// <summary>The certificate to present now; null only when no pair has ever loaded.</summary>
    public X509Certificate2? Current
    {
        get
        {
            lock (_gate)
            {
                Refresh();
                return _current;
            }
        }
    }

    private void Refresh()
    {
        byte[] cert, key;
        try
        {
            cert = File.ReadAllBytes(certFile);
            key = File.ReadAllBytes(keyFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogReloadFailed(logger, certFile, keyFile, e.Message);
            return;
        }

        if (_current is not null && cert.AsSpan().SequenceEqual(_certBytes) && key.AsSpan().SequenceEqual(_keyBytes))
            return;

        try
        {
            var loaded = X509Certificate2.CreateFromPem(System.Text.Encoding.ASCII.GetString(cert), System.Text.Encoding.ASCII.GetString(key));
            _current = loaded;
            _certBytes = cert;
            _keyBytes = key;
            var notAfter = loaded.NotAfter.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture);
            LogLoaded(logger, loaded.Subject, notAfter, loaded.Thumbprint);
        }
        catch (CryptographicException e)
        {
            LogReloadFailed(logger, certFile, keyFile, e.Message);
        }
    }

    [LoggerMessage(EventId = InjectorLogEvents.CertificateLoaded, Level = LogLevel.Information, Message = "serving certificate loaded: subject={Subject} not_after={NotAfter} thumbprint={Thumbprint}")]
    private static partial void LogLoaded(ILogger logger, string subject, string notAfter, string thumbprint);

    [LoggerMessage(EventId = InjectorLogEvents.CertificateReloadFailed, Level = LogLevel.Warning, Message = "serving certificate not (re)loaded, keeping the previous one: cert_file={CertFile} key_file={KeyFile} error={Error}")]
    private static partial void LogReloadFailed(ILogger logger, string certFile, string keyFile, string error);
}
