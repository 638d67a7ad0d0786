using System.Net;
using System.Net.Sockets;
using Gatehouse.Configuration;

namespace Gatehouse.Listeners;

/// <summary>
/// Binds one listener's address on its own and lets it go, to learn why it cannot be bound: the OS's reason
/// (address in use, not an address of this host, permission denied) or a missing socket directory. Used only after
/// Kestrel failed to start, whose own error does not say which listener failed (or names only the address).
/// </summary>
internal static class ListenerProbe
{
    /// <summary>Null when the listener's address can be bound now; otherwise why not, for a person.</summary>
    public static string? WhyNotBindable(ListenerConfig config, string listenerName)
    {
        try
        {
            return config.Type == ListenerType.Unix ? ProbeUnix(config.EffectiveAddress) : ProbeTcp(ListenerAddress.ParseTcp(config.EffectiveAddress, listenerName));
        }
        catch (SocketException exception)
        {
            return exception.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => $"{exception.Message}; another process (or another listener) is listening there",
                SocketError.AddressNotAvailable => $"{exception.Message}; no network interface of this host has that address",
                SocketError.AccessDenied when config.Type == ListenerType.Tcp =>
                    $"{exception.Message}; a port below 1024 needs root or the CAP_NET_BIND_SERVICE capability",
                SocketError.AccessDenied => $"{exception.Message}; the socket's directory must be writable by the user Gatehouse runs as",
                _ => exception.Message,
            };
        }
    }

    private static string? ProbeTcp(IPEndPoint endPoint)
    {
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (endPoint.Address.Equals(IPAddress.IPv6Any))
        {
            // As Kestrel binds [::]: dual-stack.
            socket.DualMode = true;
        }

        socket.Bind(endPoint);
        socket.Listen();
        return null;
    }

    private static string? ProbeUnix(string address)
    {
        var path = Path.GetFullPath(address);
        if (Directory.Exists(path))
        {
            return $"\"{path}\" is a directory; give the path of the socket file to create";
        }

        if (File.Exists(path))
        {
            // Start-up replaces a stale socket and refuses any other file, with its own message.
            return null;
        }

        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
        {
            return $"the directory {directory} does not exist; create it or change the address";
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        File.Delete(path);
        return null;
    }
}
