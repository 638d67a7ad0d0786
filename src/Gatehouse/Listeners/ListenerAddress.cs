using System.Globalization;
using System.Net;

namespace Gatehouse.Listeners;

/// <summary>Parses a tcp listener address: <c>127.0.0.1:8200</c>, <c>[::1]:8200</c>, <c>localhost:8200</c>, <c>:8200</c>.</summary>
internal static class ListenerAddress
{
    public static IPEndPoint ParseTcp(string address, string listenerName)
    {
        var colon = address.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new ListenerStartupException($"{listenerName}: address \"{address}\" is not host:port");
        }

        var host = address[..colon].Trim('[', ']');
        if (host.Length == 0)
        {
            return new IPEndPoint(IPAddress.Any, port);
        }

        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }

        if (IPAddress.TryParse(host, out var ip))
        {
            return new IPEndPoint(ip, port);
        }

        try
        {
            var addresses = Dns.GetHostAddresses(host);
            return addresses.Length > 0
                ? new IPEndPoint(addresses[0], port)
                : throw new ListenerStartupException($"{listenerName}: host \"{host}\" has no address");
        }
        catch (System.Net.Sockets.SocketException exception)
        {
            throw new ListenerStartupException($"{listenerName}: cannot resolve host \"{host}\": {exception.Message}", exception);
        }
    }
}
