using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Listeners;

/// <summary>
/// A TLS listener's server certificate as Kestrel's certificate selector reads it on every handshake. A SIGHUP reload
/// swaps it; connections already open keep the certificate they were made with.
/// </summary>
internal sealed class ListenerCertificate(X509Certificate2 initial)
{
    private X509Certificate2 _current = initial;

    public X509Certificate2 Current => Volatile.Read(ref _current);

    /// <summary>Installs <paramref name="certificate"/> for new handshakes. The old one is not disposed: a handshake may still use it.</summary>
    public void Swap(X509Certificate2 certificate) => Volatile.Write(ref _current, certificate);
}
