using System.Globalization;
using System.Net;

namespace Gatehouse.Configuration;

/// <summary>
/// The syntax of a tcp listener address, one rule for the validator and for the listener that binds it:
/// <c>host:port</c> where host is empty (every IPv4 address), an IP address (IPv6 in brackets, or bare as Gatehouse
/// has always accepted), <c>localhost</c> or a DNS name, and port is 0–65535 (0: any free port).
/// </summary>
internal static class TcpListenerAddress
{
    /// <summary>Splits <paramref name="address"/>; false with a message (Go's words first) when it cannot be bound.</summary>
    public static bool TryParse(string address, out string host, out int port, out string error)
    {
        host = "";
        port = 0;
        error = "";
        var colon = address.LastIndexOf(':');
        if (colon < 0)
        {
            error = $"missing port in address \"{address}\"; write host:port, such as 127.0.0.1:8200";
            return false;
        }

        var portText = address[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
        {
            error = $"invalid port \"{portText}\" in address \"{address}\"; a port is a number from 0 to 65535";
            return false;
        }

        host = address[..colon].Trim('[', ']');
        if (host.Length > 0 && !IPAddress.TryParse(host, out _) && !IsHostName(host))
        {
            error = $"invalid host \"{host}\" in address \"{address}\"; use an IP address or a host name";
            return false;
        }

        return true;
    }

    /// <summary>
    /// Letters, digits, dots, hyphens and underscores: what resolvers accept (container runtimes resolve names with
    /// underscores). Anything else, such as a space or a slash, can never resolve.
    /// </summary>
    private static bool IsHostName(string host) =>
        host.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_') && host.Any(char.IsAsciiLetterOrDigit);

    /// <summary>
    /// The IP address <paramref name="host"/> names without asking DNS: empty is every IPv4 address, <c>localhost</c>
    /// is 127.0.0.1, an IP address is itself; null for any other name.
    /// </summary>
    public static IPAddress? KnownAddress(string host) =>
        host.Length == 0 ? IPAddress.Any
        : host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
        : IPAddress.TryParse(host, out var ip) ? ip
        : null;
}
