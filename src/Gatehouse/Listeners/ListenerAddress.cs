using System.Net;
using Gatehouse.Configuration;

namespace Gatehouse.Listeners;

/// <summary>Resolves a tcp listener address (<see cref="TcpListenerAddress"/>'s syntax) to the endpoint to bind.</summary>
internal static class ListenerAddress
{
    public static IPEndPoint ParseTcp(string address, string listenerName)
    {
        if (!TcpListenerAddress.TryParse(address, out var host, out var port, out var error))
        {
            throw new ListenerStartupException($"{listenerName}: {error}");
        }

        if (TcpListenerAddress.KnownAddress(host) is { } known)
        {
            return new IPEndPoint(known, port);
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
