using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Hosting;

/// <summary>
/// sd_notify(3) over <c>$NOTIFY_SOCKET</c> (a unix datagram socket; a leading <c>@</c> means the abstract namespace).
/// UseSystemd() already sends READY=1 at start and STOPPING=1 at stop; this adds what it does not: RELOADING=1 and
/// READY=1 around a SIGHUP reload, as Vault does. Without $NOTIFY_SOCKET every call is a no-op.
/// </summary>
internal sealed class SystemdNotifier(string? socketPath)
{
    public const string Reloading = "RELOADING=1";
    public const string Ready = "READY=1";

    public static SystemdNotifier FromEnvironment() => new(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    public bool IsEnabled => !string.IsNullOrEmpty(socketPath);

    /// <summary>Sends one state datagram. Returns false when disabled or the send failed (systemd gone): never throws.</summary>
    public bool Notify(string state)
    {
        if (!IsEnabled)
        {
            return false;
        }

        string path = socketPath![0] == '@' ? "\0" + socketPath[1..] : socketPath;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.SendTo(Encoding.UTF8.GetBytes(state), new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
