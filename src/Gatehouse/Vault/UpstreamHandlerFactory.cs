using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Configuration;

namespace Gatehouse.Vault;

/// <summary>
/// Builds the <see cref="SocketsHttpHandler"/> every upstream client uses, from the <c>vault</c> stanza's TLS settings.
/// One handler per client kind (proxying, auto-auth) is created at startup and shared: pooled keep-alive connections
/// are what make Gatehouse cheaper for Vault than the Go agent, which churns connections.
/// </summary>
internal static class UpstreamHandlerFactory
{
    /// <summary>Connection attempts fail fast, so an unreachable Vault gives a quick 502 instead of a long hang.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    public static SocketsHttpHandler Create(VaultConfig vault, bool disableKeepAlives, bool disableIdleConnections)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ActivityHeadersPropagator = null,
            ConnectTimeout = ConnectTimeout,
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionIdleTimeout = disableIdleConnections ? TimeSpan.Zero : TimeSpan.FromMinutes(5),
            PooledConnectionLifetime = disableKeepAlives ? TimeSpan.Zero : Timeout.InfiniteTimeSpan,
            EnableMultipleHttp2Connections = true,
        };

        var address = new Uri(vault.EffectiveAddress);
        if (address.Scheme == Uri.UriSchemeHttps)
        {
            handler.SslOptions = CreateSslOptions(vault, address.Host);
            if (!string.IsNullOrEmpty(vault.TlsServerName))
            {
                // The handler takes the TLS name from the Host header (or the address) and ignores SslOptions.TargetHost,
                // so tls_server_name needs a TLS handshake of our own: SNI and the certificate check use it, while the
                // Host header stays Vault's address, as Go's client does with tls.Config.ServerName.
                handler.ConnectCallback = (context, cancellationToken) => ConnectTlsAsync(vault, context, cancellationToken);
            }
        }

        return handler;
    }

    private static async ValueTask<Stream> ConnectTlsAsync(VaultConfig vault, SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
            var options = CreateSslOptions(vault, vault.TlsServerName!);
            var request = context.InitialRequestMessage;
            options.ApplicationProtocols = request.Version >= HttpVersion.Version20 && request.VersionPolicy != HttpVersionPolicy.RequestVersionExact
                ? [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11]
                : request.Version >= HttpVersion.Version20 ? [SslApplicationProtocol.Http2] : [SslApplicationProtocol.Http11];
            await tls.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
            return tls;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static SslClientAuthenticationOptions CreateSslOptions(VaultConfig vault, string targetHost)
    {
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        };

        if (!string.IsNullOrEmpty(vault.ClientCert) && !string.IsNullOrEmpty(vault.ClientKey))
        {
            var certificate = ReadTlsFile(
                () => X509Certificate2.CreateFromPemFile(vault.ClientCert, vault.ClientKey),
                $"vault.client_cert \"{vault.ClientCert}\" and vault.client_key \"{vault.ClientKey}\"");
            options.ClientCertificates = [certificate];
        }

        if (vault.TlsSkipVerify)
        {
            // The user asked for it (tls_skip_verify / VAULT_SKIP_VERIFY), as Vault allows.
#pragma warning disable CA5359
            options.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
#pragma warning restore CA5359
            return options;
        }

        var roots = LoadRoots(vault);
        if (roots.Count > 0)
        {
            options.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            options.CertificateChainPolicy.CustomTrustStore.AddRange(roots);
        }

        return options;
    }

    /// <summary>ca_cert (a PEM bundle) and every PEM file in ca_path; empty means the system trust store.</summary>
    private static X509Certificate2Collection LoadRoots(VaultConfig vault)
    {
        var roots = new X509Certificate2Collection();
        if (!string.IsNullOrEmpty(vault.CaCert))
        {
            ReadTlsFile(() => roots.ImportFromPemFile(vault.CaCert), $"vault.ca_cert \"{vault.CaCert}\"");
        }

        if (!string.IsNullOrEmpty(vault.CaPath) && Directory.Exists(vault.CaPath))
        {
            foreach (var file in ReadTlsFile(() => Directory.GetFiles(vault.CaPath), $"vault.ca_path \"{vault.CaPath}\""))
            {
                ReadTlsFile(() => roots.ImportFromPemFile(file), $"\"{file}\" in vault.ca_path");
            }
        }

        return roots;
    }

    /// <summary>Runs a read of the vault stanza's TLS files; a failure becomes a <see cref="VaultTlsFileException"/> naming them.</summary>
    private static T ReadTlsFile<T>(Func<T> read, string what)
    {
        try
        {
            return read();
        }
        catch (Exception exception) when (exception is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new VaultTlsFileException($"cannot load {what}: {exception.Message}", exception);
        }
    }

    private static void ReadTlsFile(Action read, string what) => ReadTlsFile(() => { read(); return true; }, what);
}
