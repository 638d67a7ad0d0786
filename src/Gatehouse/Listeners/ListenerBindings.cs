using Gatehouse.Configuration;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;

namespace Gatehouse.Listeners;

/// <summary>
/// Turns the listener blocks into Kestrel endpoints (tcp, IPv6, unix sockets, TLS), each tagged with its
/// <see cref="ListenerFeature"/>, and applies Kestrel's limits for bad input. Remembers each endpoint so the host can
/// report the bound addresses (ephemeral ports included) and fix unix socket permissions after binding.
/// </summary>
internal sealed class ListenerBindings : IConfigureOptions<KestrelServerOptions>
{
    /// <summary>The longest a client may take to send the request headers.</summary>
    public static readonly TimeSpan RequestHeadersTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The total size of request headers accepted (Go's default is 1 MiB; Kestrel's 32 KiB is too tight for JWT logins).</summary>
    public const int MaxRequestHeadersTotalSize = 1024 * 1024;

    private readonly IReadOnlyList<ListenerConfig> _listeners;
    private readonly List<(int Index, ListenerConfig Config, ListenOptions Options)> _bound = [];
    private readonly Dictionary<int, ListenerCertificate> _certificates = [];

    private readonly TimeSpan _halfClosedGrace;
    private readonly TimeProvider _time;

    public ListenerBindings(IReadOnlyList<ListenerConfig> listeners, TimeSpan? halfClosedGrace = null, TimeProvider? time = null)
    {
        _listeners = listeners;
        _halfClosedGrace = halfClosedGrace ?? HalfCloseTolerance.DefaultGrace;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The endpoints configured, in listener order; after start their EndPoint holds the bound address.</summary>
    public IReadOnlyList<(int Index, ListenerConfig Config, ListenOptions Options)> Bound => _bound;

    /// <summary>The server certificate of each TLS listener, by listener index; a reload swaps them.</summary>
    public IReadOnlyDictionary<int, ListenerCertificate> Certificates => _certificates;

    public IReadOnlyList<ListenerConfig> Listeners => _listeners;

    public void Configure(KestrelServerOptions options)
    {
        options.AddServerHeader = false;
        options.Limits.MaxRequestHeadersTotalSize = MaxRequestHeadersTotalSize;
        options.Limits.MaxRequestBodySize = _listeners.Count == 0 ? Defaults.MaxRequestSize : _listeners.Max(l => l.EffectiveMaxRequestSize);
        options.Limits.RequestHeadersTimeout = RequestHeadersTimeout;
        options.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(10));

        _bound.Clear();
        _certificates.Clear();
        for (var index = 0; index < _listeners.Count; index++)
        {
            var config = _listeners[index];
            var name = ListenerFeature.Describe(index, config);
            var feature = new ListenerFeature(index, config);

            // Read every TLS file before binding anything: a bad certificate stops startup with its name.
            HttpsConnectionAdapterOptions? https = null;
            if (!config.TlsDisable)
            {
                https = ListenerTls.CreateOptions(config, name, out var certificate);
                _certificates[index] = certificate;
            }

            void Configure(ListenOptions listen)
            {
                listen.Use(next => connection =>
                {
                    connection.Features.Set(feature);
                    return next(connection);
                });
                listen.Use(HalfCloseTolerance.Middleware(_halfClosedGrace, _time));
                if (https is null)
                {
                    listen.Protocols = HttpProtocols.Http1;
                }
                else
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(https);
                }

                _bound.Add((index, config, listen));
            }

            if (config.Type == ListenerType.Unix)
            {
                var path = config.EffectiveAddress;
                if (string.IsNullOrEmpty(path))
                {
                    throw new ListenerStartupException($"{name}: a unix listener needs address = \"/path/to/socket\"");
                }

                RemoveStaleSocket(path, name);
                options.ListenUnixSocket(path, Configure);
            }
            else
            {
                options.Listen(ListenerAddress.ParseTcp(config.EffectiveAddress, name), Configure);
            }
        }
    }

    /// <summary>
    /// After Kestrel failed to bind: the first listener, in order, that cannot be bound on its own, named with the
    /// reason (<c>listener 1 (tcp 127.0.0.1:8200): bind: Address already in use; …</c>). Call it once the failed
    /// server has released what it had bound. When every listener binds now (the obstacle went away), Kestrel's own
    /// message is kept.
    /// </summary>
    public ListenerStartupException DescribeBindFailure(Exception failure)
    {
        for (var index = 0; index < _listeners.Count; index++)
        {
            var name = ListenerFeature.Describe(index, _listeners[index]);
            if (ListenerProbe.WhyNotBindable(_listeners[index], name) is { } reason)
            {
                return new ListenerStartupException($"{name}: bind: {reason}", failure);
            }
        }

        return new ListenerStartupException(failure.Message, failure);
    }

    /// <summary>Whether <paramref name="exception"/> is Kestrel failing to bind an endpoint (in use, not on this host, no permission).</summary>
    public static bool IsBindFailure(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Net.Sockets.SocketException or Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A socket file left by a previous run would make the bind fail; anything else at the path is not ours.</summary>
    private static void RemoveStaleSocket(string path, string name)
    {
        if (!File.Exists(path))
        {
            return;
        }

        if (!IsSocket(path))
        {
            throw new ListenerStartupException($"{name}: \"{path}\" exists and is not a socket; remove it or choose another address");
        }

        File.Delete(path);
    }

    /// <summary>.NET exposes no file type; a socket is the file that exists but cannot be opened (ENXIO).</summary>
    private static bool IsSocket(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
