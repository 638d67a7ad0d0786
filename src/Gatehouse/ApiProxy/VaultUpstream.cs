using System.Net;
using Gatehouse.Configuration;
using Gatehouse.Vault;
using Yarp.ReverseProxy.Forwarder;

namespace Gatehouse.ApiProxy;

/// <summary>
/// The proxying client: one <see cref="HttpMessageInvoker"/> over one tuned <see cref="SocketsHttpHandler"/> (pooled
/// keep-alive connections, the vault stanza's TLS), shared by every request for the life of the process.
/// </summary>
internal sealed class VaultUpstream : IDisposable
{
    public VaultUpstream(GatehouseConfig config, TimeSpan activityTimeout)
    {
        var address = new Uri(config.Vault.EffectiveAddress);
        Address = config.Vault.EffectiveAddress;
        DestinationPrefix = address.GetLeftPart(UriPartial.Path).TrimEnd('/');
        Invoker = new HttpMessageInvoker(
            UpstreamHandlerFactory.Create(
                config.Vault,
                config.DisableKeepAlives.HasFlag(UpstreamClientSet.Proxying),
                config.DisableIdleConnections.HasFlag(UpstreamClientSet.Proxying)),
            disposeHandler: true);

        // Plain-text Vault speaks HTTP/1.1 only: pinning it skips a pointless upgrade negotiation per connection.
        var https = address.Scheme == Uri.UriSchemeHttps;
        RequestConfig = new ForwarderRequestConfig
        {
            ActivityTimeout = activityTimeout,
            Version = https ? HttpVersion.Version20 : HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
    }

    /// <summary>vault.address as configured, for messages.</summary>
    public string Address { get; }

    public string DestinationPrefix { get; }

    public HttpMessageInvoker Invoker { get; }

    public ForwarderRequestConfig RequestConfig { get; }

    public void Dispose() => Invoker.Dispose();
}
