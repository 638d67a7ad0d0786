using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.AspNetCore.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.DevVault;

/// <summary>
/// An in-memory, in-process Vault 1.8 dev server on Kestrel, for tests and <c>gatehouse dev</c>.
/// For development and tests only: no persistence, no real security.
/// </summary>
public sealed class DevVaultServer : IAsyncDisposable
{
    private readonly DevVaultOptions _options;
    private readonly VaultCore _core;
    private readonly SemaphoreSlim _listenerLock = new(1, 1);
    private readonly DevVaultTls? _tls;
    private WebApplication? _app;
    private IPAddress _ip = IPAddress.Loopback;
    private int _port;

    private DevVaultServer(DevVaultOptions options)
    {
        _options = options;
        Faults = new DevVaultFaults { Server = this };
        _core = new VaultCore(options, Faults);
        Faults.Core = _core;
        if (options.TlsServerName is { } name)
        {
            _tls = DevVaultTls.Create(name);
            TlsCaCertificate = _tls.Ca;
            TlsCaCertificatePem = _tls.Ca.ExportCertificatePem();
        }
    }

    /// <summary>e.g. http://127.0.0.1:54321 (no trailing slash).</summary>
    public Uri Address { get; private set; } = new("http://127.0.0.1");

    /// <summary>The root token id.</summary>
    public string RootToken => _core.RootToken;

    /// <summary>The unseal key (one share, threshold one), for <c>PUT sys/unseal</c>.</summary>
    public string UnsealKey => _core.UnsealKey;

    /// <summary>With <see cref="DevVaultOptions.TlsServerName"/>: the CA that issued the server certificate (no private key).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? TlsCaCertificate { get; private set; }

    /// <summary>With <see cref="DevVaultOptions.TlsServerName"/>: <see cref="TlsCaCertificate"/> as PEM, for a <c>ca_cert</c> file.</summary>
    public string? TlsCaCertificatePem { get; private set; }

    /// <summary>
    /// With <see cref="DevVaultOptions.TlsServerName"/>: the address by name, e.g. https://vault.test:54321. The name
    /// resolves nowhere; a client connects to <see cref="Address"/> and sends the name as SNI and Host, which
    /// <see cref="CreateHttpHandler"/> does.
    /// </summary>
    public Uri? TlsServerNameAddress => _tls is null ? null : new UriBuilder(Address) { Host = _options.TlsServerName }.Uri;

    /// <summary>
    /// A handler for test clients that connects every request to this server whatever host its URI names, and trusts
    /// <see cref="TlsCaCertificate"/> (and nothing else) when there is one. With it,
    /// <c>new HttpClient(server.CreateHttpHandler()) { BaseAddress = server.TlsServerNameAddress }</c> reaches DevVault
    /// as a client configured with <c>tls_server_name</c> would: SNI, certificate name and Host all "vault.test".
    /// </summary>
    public SocketsHttpHandler CreateHttpHandler()
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(_ip, _port, ct).ConfigureAwait(false);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        if (TlsCaCertificate is { } ca)
        {
            handler.SslOptions.CertificateChainPolicy = new System.Security.Cryptography.X509Certificates.X509ChainPolicy
            {
                TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust,
                RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
            };
            handler.SslOptions.CertificateChainPolicy.CustomTrustStore.Add(ca);
        }
        return handler;
    }

    /// <summary>Event WebSockets open now (<see cref="DevVaultOptions.EventStream"/>).</summary>
    public int EventSubscriberCount => _core.EventSubscriberCount;

    /// <summary>In-process fault injection.</summary>
    public DevVaultFaults Faults { get; }

    /// <summary>Starts a server and waits until it listens.</summary>
    public static async Task<DevVaultServer> StartAsync(DevVaultOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.TlsServerName is { } name)
        {
            if (options.TlsCertificate is not null)
            {
                throw new ArgumentException("Set TlsServerName (DevVault makes a certificate for that name) or TlsCertificate (bring your own), not both.", nameof(options));
            }
            DevVaultTls.Validate(name);
        }
        var server = new DevVaultServer(options);
        var (host, port) = ParseAddress(options.ListenAddress);
        server._ip = host;
        server._port = port;
        await server.StartListenerAsync(cancellationToken).ConfigureAwait(false);
        return server;
    }

    private static (IPAddress Host, int Port) ParseAddress(string address)
    {
        var colon = address.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            throw new ArgumentException($"ListenAddress \"{address}\" must be host:port, e.g. 127.0.0.1:8200.", nameof(address));
        }
        var host = address[..colon].Trim('[', ']');
        if (host == "localhost")
        {
            return (IPAddress.Loopback, port);
        }
        if (!IPAddress.TryParse(host, out var ip))
        {
            throw new ArgumentException($"ListenAddress \"{address}\": \"{host}\" is not an IP address.", nameof(address));
        }
        return (ip, port);
    }

    private async Task StartListenerAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(_options.LoggerFactory ?? NullLoggerFactory.Instance);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        if (_options.ListenBacklog is { } backlog)
        {
            builder.Services.Configure<SocketTransportOptions>(sockets => sockets.Backlog = backlog);
        }

        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = null; // enforced by DevVault itself, to answer with Vault's JSON 413
            k.Listen(_ip, _port, listen =>
            {
                if ((_options.TlsCertificate ?? _tls?.Server) is { } cert)
                {
                    var https = new HttpsConnectionAdapterOptions
                    {
                        ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                        ClientCertificateValidation = (_, _, _) => true, // cert auth verifies the chain per configured CA
                    };
                    if (_options.IngressHost is { } ingress)
                    {
                        // An ingress picks the certificate by SNI; any other name (or none) gets its default one.
                        var fallback = _tls?.IngressDefault ?? cert;
                        https.ServerCertificateSelector = (_, sni) => string.Equals(sni, ingress, StringComparison.OrdinalIgnoreCase) ? cert : fallback;
                    }
                    else
                    {
                        https.ServerCertificate = cert;
                    }
                    listen.UseHttps(https);
                }
                // After TLS, so it reads plain HTTP: Go's answers to two Host headers or none, before Kestrel's.
                listen.Use(GoHostRules.Apply);
            });
        });
        if (_options.EventStream)
        {
            builder.Services.AddWebSockets(_ => { });
        }
        var app = builder.Build();
        if (_options.EventStream)
        {
            app.UseWebSockets();
        }
        app.Run(_core.HandleAsync);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var bound = new Uri(addresses.First());
        _port = bound.Port;
        var scheme = _options.TlsCertificate is null && _tls is null ? "http" : "https";
        var hostText = _ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{_ip}]" : _ip.ToString();
        Address = new Uri($"{scheme}://{hostText}:{_port}");
        _app = app;
    }

    internal async Task StopListenerAsync()
    {
        await _listenerLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_app is { } app)
            {
                _app = null;
                // Open event WebSockets would hold the shutdown until its timeout: end them first, as a stopping Vault does.
                _core.CloseEventStreams();
                await app.StopAsync().ConfigureAwait(false);
                await app.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _listenerLock.Release();
        }
    }

    internal async Task RestartListenerAsync()
    {
        await StopListenerAsync().ConfigureAwait(false);
        await _listenerLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await StartListenerAsync(CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _listenerLock.Release();
        }
    }

    /// <summary>Stops the server.</summary>
    public Task StopAsync() => StopListenerAsync();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopListenerAsync().ConfigureAwait(false);
        _listenerLock.Dispose();
        _tls?.Dispose();
    }
}
